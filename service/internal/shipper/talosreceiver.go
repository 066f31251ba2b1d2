package shipper

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"time"
)

// TalosReceiver accepts Talos's json_lines log stream over TCP (newline-separated JSON
// objects, one connection per node and destination) and spools every line.
type TalosReceiver struct {
	Spool    *Spool
	Log      *slog.Logger
	Received func() // counts a line (metrics)
	Now      func() time.Time
}

// Serve accepts connections until ctx ends.
func (r *TalosReceiver) Serve(ctx context.Context, ln net.Listener) {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				r.Log.Error("talos receiver: accept failed", "err", err.Error())
			}
			return
		}
		go r.handle(ctx, conn)
	}
}

func (r *TalosReceiver) handle(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	remote, _, _ := net.SplitHostPort(conn.RemoteAddr().String())
	scanner := bufio.NewScanner(conn)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" {
			continue
		}
		if err := r.Spool.Add(line, remote, r.Now()); err != nil {
			r.Log.Error("talos receiver: cannot spool a line", "err", err.Error())
			continue
		}
		if r.Received != nil {
			r.Received()
		}
	}
}
