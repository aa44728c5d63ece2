// Command applybench applies benchapply.LargeConfig inside a named network
// namespace with guestbridge's applier, or prints the equivalent `ip`
// script. bench.sh times the two against each other.
//
//	applybench -netns NAME            apply (prints the in-process time)
//	applybench -netns NAME -script    print the ip script (one command a line)
//	applybench -netns NAME -batch     print it as `ip -batch` input
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	benchapply "guestbridge/bench/apply"
	"guestbridge/netconf/apply"
)

func main() {
	nsName := flag.String("netns", "", "network namespace to apply in (required)")
	script := flag.Bool("script", false, "print the equivalent shell script of ip commands")
	batch := flag.Bool("batch", false, "print the equivalent ip -batch input")
	stateDir := flag.String("state", "", "state directory (default: a fresh temp dir)")
	flag.Parse()
	if *nsName == "" {
		fmt.Fprintln(os.Stderr, "applybench: -netns is required")
		os.Exit(2)
	}
	cfg := benchapply.LargeConfig()
	switch {
	case *script:
		for _, c := range benchapply.IPCommands(cfg) {
			fmt.Printf("ip -n %s %s\n", *nsName, strings.Join(c, " "))
		}
	case *batch:
		for _, c := range benchapply.IPCommands(cfg) {
			fmt.Println(strings.Join(c, " "))
		}
	default:
		if err := run(*nsName, *stateDir); err != nil {
			fmt.Fprintln(os.Stderr, "applybench:", err)
			os.Exit(1)
		}
	}
}

func run(nsName, stateDir string) error {
	ns, err := netns.GetFromName(nsName)
	if err != nil {
		return fmt.Errorf("netns %s: %w", nsName, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if stateDir == "" {
		if stateDir, err = os.MkdirTemp("", "applybench"); err != nil {
			return err
		}
		defer os.RemoveAll(stateDir)
	}
	start := time.Now()
	rep, err := apply.Apply(context.Background(), benchapply.LargeConfig(), apply.Options{Handle: h, NetNS: ns, StateDir: stateDir})
	if err != nil {
		return err
	}
	fmt.Printf("applied %d changes in %s (in process)\n", len(rep.Changes), time.Since(start).Round(time.Microsecond))
	return nil
}
