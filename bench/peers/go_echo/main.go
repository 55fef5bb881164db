// go_echo: the Go peer for cogent's greenlet echo server, a TCP echo server the way Go is
// written: one goroutine per connection, blocking-style reads and writes, the runtime's
// netpoller underneath.
//
//	go_echo [--host 127.0.0.1] [--port N]    (N = 0: any free port)
//
// Prints `listening on N` once it listens. SIGINT or SIGTERM ends it with status 0. GOMAXPROCS
// is left alone: the runner pins the process to one CPU with taskset and the runtime sizes
// itself from the affinity mask. RLIMIT_NOFILE needs no code either: since Go 1.19 importing os
// raises the soft limit to the hard one.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

const bufferSize = 64 * 1024

func echo(conn net.Conn) {
	defer conn.Close()
	buf := make([]byte, bufferSize)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			// Write returns an error whenever it writes less than n.
			if _, werr := conn.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a reset: this connection is over
		}
	}
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 0, "port to listen on (0: any free port)")
	flag.Parse()
	if flag.NArg() != 0 || *port < 0 || *port > 65535 {
		flag.Usage()
		os.Exit(2)
	}

	// Notified signals are not delivered with their default action, so SIGTERM reaches the
	// goroutine below. SIGPIPE on a socket never kills a Go program: the runtime ignores it
	// for descriptors other than stdout and stderr.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		os.Exit(0)
	}()

	listener, err := net.Listen("tcp4", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_echo:", err)
		os.Exit(1)
	}
	// os.Stdout is unbuffered: the line is out when Printf returns.
	fmt.Printf("listening on %d\n", listener.Addr().(*net.TCPAddr).Port)

	for {
		conn, err := listener.Accept()
		if err != nil {
			// Accept retries ECONNABORTED itself; EMFILE and the like are reported every time
			// they happen, so back off a little as net/http does rather than spin.
			fmt.Fprintln(os.Stderr, "go_echo: accept:", err)
			time.Sleep(5 * time.Millisecond)
			continue
		}
		go echo(conn) // a *net.TCPConn: TCP_NODELAY is on by default
	}
}
