// Command talos-server serves a fleet of fake Talos nodes for integration
// tests: each node listens on IP:50000 and answers Talos's gRPC API as Talos
// v1.13 does (see internal/fleet and README.md). Nodes come from --node flags
// and from POST /nodes on the status endpoint; with netns= their WireGuard
// links are realised in a Linux network namespace (root only).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hybridctl.dev/test/talos/internal/fleet"
	"hybridctl.dev/test/talos/internal/talosmode"
)

type nodeFlags []fleet.NodeSpec

func (nf *nodeFlags) String() string { return fmt.Sprint(len(*nf), " nodes") }

const nodeUsage = "IP=ROLE[,mode=metal|cloud|container][,preconfigured=FILE][,bootstrapped=true]" +
	"[,netns=NAME][,link=NAME][,prefix=N][,address=dhcp|static]"

// Set parses a --node value (nodeUsage).
func (nf *nodeFlags) Set(value string) error {
	ip, rest, ok := strings.Cut(value, "=")
	if !ok {
		return errors.New("want " + nodeUsage)
	}

	parts := strings.Split(rest, ",")
	spec := fleet.NodeSpec{IP: ip, Role: parts[0], Mode: talosmode.Metal}

	for _, option := range parts[1:] {
		key, val, _ := strings.Cut(option, "=")

		var err error

		switch key {
		case "mode":
			spec.Mode, err = talosmode.Parse(val)
		case "preconfigured":
			spec.Preconfigured, err = os.ReadFile(val)
		case "bootstrapped":
			spec.Bootstrapped = val == "true"
		case "netns":
			spec.Netns = val
		case "link":
			spec.Link = val
		case "prefix":
			spec.Prefix, err = strconv.Atoi(val)
		case "address":
			spec.Address = val
		default:
			err = fmt.Errorf("unknown option %q", key)
		}

		if err != nil {
			return err
		}
	}

	*nf = append(*nf, spec)

	return nil
}

func main() {
	logger := log.New(os.Stderr, "talos-server: ", log.LstdFlags|log.Lmicroseconds)

	if err := run(logger); err != nil {
		logger.Print(err)
		os.Exit(1)
	}
}

func run(logger *log.Logger) error {
	var nodes nodeFlags

	flag.Var(&nodes, "node", nodeUsage+", repeatable")
	rebootDelay := flag.Duration("reboot-delay", 300*time.Millisecond, "how long a rebooting node is unreachable")
	statusAddr := flag.String("status-addr", "", "HOST:PORT for GET /status, POST and DELETE /nodes, POST /fail and POST /power-on")
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig handed out by Kubeconfig (default: generated from the config)")
	port := flag.Int("port", 50000, "port every node listens on")
	flag.Parse()

	if len(nodes) == 0 && *statusAddr == "" {
		return errors.New("at least one --node is required (or --status-addr, to add nodes with POST /nodes)")
	}

	opts := fleet.Options{RebootDelay: *rebootDelay, Port: *port, Logger: logger}

	if *kubeconfig != "" {
		var err error
		if opts.Kubeconfig, err = os.ReadFile(*kubeconfig); err != nil {
			return err
		}
	}

	f, err := fleet.New(opts, nodes)
	if err != nil {
		return err
	}

	defer f.Close()

	if err = f.Start(); err != nil {
		return err
	}

	var statusServer *http.Server

	if *statusAddr != "" {
		lis, err := net.Listen("tcp", *statusAddr)
		if err != nil {
			return err
		}

		statusServer = &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 5 * time.Second}

		go statusServer.Serve(lis) //nolint:errcheck
	}

	fmt.Println("ready")

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	<-ctx.Done()
	logger.Print("shutting down")

	if statusServer != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()

		statusServer.Shutdown(shutdownCtx) //nolint:errcheck
	}

	return nil
}
