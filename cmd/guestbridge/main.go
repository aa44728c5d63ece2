// Command guestbridge makes a cloud VM a proper citizen of its cloud: it reads
// an OpenStack config drive or XenStore, hands the result to cloud-init as a
// NoCloud seed or applies it itself, and answers nova-agent commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=…". It stays
// numeric: Nova compares it with LooseVersion to decide on agent updates.
var version = "0.1.0"

// command is one subcommand: its flags are parsed by run itself.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer) error
}

var commands = map[string]command{
	"detect":  {"list the sources present on this machine", runDetect},
	"show":    {"print the network config (v2) or the whole instance (json)", runShow},
	"seed":    {"write a cloud-init NoCloud seed", runSeed},
	"apply":   {"configure this machine directly (network, hostname, DNS, keys, password, files)", runApply},
	"boot":    {"what the boot service runs: seed cloud-init when installed, else apply", runBoot},
	"agent":   {"answer nova-agent commands over XenStore (long-running)", runAgent},
	"send":    {"impersonate the host: send one agent command and print the reply", runSend},
	"version": {"print the version", runVersion},
	"status":  {"the last boot/apply: what it changed, skipped and why; exit 0 healthy, 1 failed, 2 degraded", runStatus},
	"config":  {"print the effective settings and where each value came from", runConfig},
}

// usageError makes the process exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	stopSignals := handleSignals(cancel, signalGrace, os.Stderr, os.Exit)
	rc := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopSignals()
	os.Exit(rc)
}

// signalGrace is how long a command may take to finish after SIGINT or
// SIGTERM cancelled its context before the process exits anyway.
const signalGrace = 2 * time.Second

// handleSignals cancels the command's context on the first SIGINT/SIGTERM
// (the agent and every wait end cleanly), and exits with 128+signal when
// the command has not returned grace later, or at once on a second signal:
// a read blocked in the kernel (a FIFO, a hung device) never sees ctx, and
// every file we write is replaced atomically, so exiting is safe.
func handleSignals(cancel context.CancelFunc, grace time.Duration, stderr io.Writer, exit func(int)) (stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first os.Signal
		select {
		case first = <-sigs:
		case <-done:
			return
		}
		cancel()
		code := 128 + int(first.(syscall.Signal))
		select {
		case <-done:
			return
		case <-sigs:
			fmt.Fprintf(stderr, "guestbridge: second signal; exiting now\n")
		case <-time.After(grace):
			fmt.Fprintf(stderr, "guestbridge: %v: still busy %v later; exiting\n", first, grace)
		}
		exit(code)
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// run executes one command; ctx ends on SIGINT/SIGTERM (the agent then
// exits cleanly).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "guestbridge: unknown command %q\n", args[0])
		printUsage(stderr)
		return 2
	}
	ctx = context.WithValue(ctx, loggerKey{}, newLogger(stderr))
	err := cmd.run(ctx, args[1:], stdout)
	var es exitStatus
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, &es):
		if es.err != nil {
			fmt.Fprintf(stderr, "guestbridge %s: %v\n", args[0], es.err)
		}
		return es.code
	default:
		fmt.Fprintf(stderr, "guestbridge %s: %v\n", args[0], err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
}

// exitStatus ends a command with a chosen status (3: partial success),
// printing err when it is not nil.
type exitStatus struct {
	code int
	err  error
}

func (e exitStatus) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: guestbridge COMMAND [flags]   (guestbridge COMMAND --help for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nsources (--source): auto (default), configdrive, configdrive:PATH (device, image or directory),")
	fmt.Fprintln(w, "                    xenstore, xenstore:SOCKET")
}

// newFlags makes a FlagSet whose errors are returned, not printed and exited on.
func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("guestbridge "+name, pflag.ContinueOnError)
	fs.SortFlags = false
	if flagsHook != nil {
		flagsHook(fs)
	}
	return fs
}

// parseFlags parses args and turns flag errors into usage errors.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	return nil
}

func runVersion(_ context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, "guestbridge", version)
	return err
}

// The one logger: plain text (key=value) on stderr, which journald and
// syslog take as is, one line per event; level from $GUESTBRIDGE_LOG_LEVEL
// (debug, info, warn, error; default info). Secrets never go here. run puts
// it in the context (tests run several commands at once, each with its own
// stderr).
type loggerKey struct{}

func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return newLogger(os.Stderr)
}

// logLevel is the logger's level: $GUESTBRIDGE_LOG_LEVEL when set, else
// main.log_level from the settings once they are loaded.
var logLevel = new(slog.LevelVar)

func newLogger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("GUESTBRIDGE_LOG_LEVEL"))); err == nil {
		logLevel.Set(level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: logLevel,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // journald and syslog stamp lines themselves
			}
			return a
		},
	}))
}

// logfFor adapts the logger for packages that take a printf-style function.
func logfFor(l *slog.Logger) func(string, ...any) {
	return func(format string, args ...any) { l.Info(fmt.Sprintf(format, args...)) }
}

// noArgs refuses positional arguments a command does not take.
func noArgs(fs *pflag.FlagSet) error {
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (this command takes flags only)", fs.Arg(0))
	}
	return nil
}
