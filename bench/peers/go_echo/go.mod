module cogent/bench/go_echo

go 1.19
