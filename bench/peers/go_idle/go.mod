module cogent/bench/go_idle

go 1.19
