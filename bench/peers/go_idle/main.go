// go_idle: the Go peer for cogent_memory_bench, the resident memory of idle goroutines.
//
//	go_idle [--goroutines N]
//
// Starts N goroutines that each block forever on a channel receive, waits until all have
// started, and reads VmRSS from /proc/self/status before and after (with a GC first, so that
// garbage does not count). Prints one JSON line:
//
//	{"kind":"goroutine","requested":N,"parked":N,"rss_before_kib":...,"rss_after_kib":...,
//	 "hwm_after_kib":...,"pte_before_kib":...,"pte_after_kib":...,"bytes_per_item":...,
//	 "park_seconds":...}
//
// VmPTE (page tables) is not part of VmRSS; it is shown beside it, as cogent_memory_bench does.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

type memory struct {
	rssKiB, hwmKiB, pteKiB int64
}

func statusField(status []byte, field string) int64 {
	at := bytes.Index(status, []byte(field))
	if at < 0 {
		return -1
	}
	rest := bytes.TrimLeft(status[at+len(field):], " \t")
	end := bytes.IndexAny(rest, " \n")
	if end < 0 {
		end = len(rest)
	}
	v, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

func readMemory() memory {
	runtime.GC()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_idle:", err)
		os.Exit(1)
	}
	return memory{statusField(status, "VmRSS:"), statusField(status, "VmHWM:"),
		statusField(status, "VmPTE:")}
}

func main() {
	count := flag.Int("goroutines", 100000, "how many idle goroutines to start")
	flag.Parse()
	if flag.NArg() != 0 || *count < 0 {
		flag.Usage()
		os.Exit(2)
	}

	block := make(chan struct{}) // never closed, never sent on
	var started sync.WaitGroup
	// One goroutine started and parked first, so that the scheduler's and the channel's own
	// memory is resident before the first reading.
	started.Add(1)
	go func() {
		started.Done()
		<-block
	}()
	started.Wait()
	baseline := runtime.NumGoroutine()
	before := readMemory()

	start := time.Now()
	started.Add(*count)
	for i := 0; i < *count; i++ {
		go func() {
			started.Done()
			<-block
		}()
	}
	started.Wait()
	// Done is the last thing each goroutine does before its receive; a yield lets any that was
	// preempted in between reach it (readMemory's GC stops the world besides).
	runtime.Gosched()
	parkSeconds := time.Since(start).Seconds()
	parked := runtime.NumGoroutine() - baseline
	after := readMemory()

	perItem := 0.0
	if parked > 0 {
		perItem = float64(after.rssKiB-before.rssKiB) * 1024 / float64(parked)
	}
	fmt.Printf("{\"kind\":\"goroutine\",\"requested\":%d,\"parked\":%d,\"rss_before_kib\":%d,"+
		"\"rss_after_kib\":%d,\"hwm_after_kib\":%d,\"pte_before_kib\":%d,\"pte_after_kib\":%d,"+
		"\"bytes_per_item\":%.0f,\"park_seconds\":%.3f}\n",
		*count, parked, before.rssKiB, after.rssKiB, after.hwmKiB, before.pteKiB, after.pteKiB,
		perItem, parkSeconds)
}
