package datasource

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type fakeSource struct {
	name string
	err  error
}

func (f fakeSource) Name() string { return f.name }
func (f fakeSource) Read(context.Context) (*Instance, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &Instance{InstanceID: f.name}, nil
}

func probe(kind string, srcs ...Source) Probe {
	return Probe{Kind: kind, Find: func(context.Context) ([]Source, error) { return srcs, nil }}
}

// Issue 8: --source auto took the first source present; a config drive
// that failed to read was the end. Now the next source of the list is tried.
func TestReadFirstFallsBackFromBrokenConfigDrive(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	probes := []Probe{
		probe("configdrive", fakeSource{name: "configdrive:/dev/sr0", err: errors.New("meta_data.json: unexpected EOF")}),
		{Kind: "broken", Find: func(context.Context) ([]Source, error) { return nil, errors.New("probe failed") }},
		probe("xenstore", fakeSource{name: "xenstore"}),
	}
	inst, err := ReadFirst(context.Background(), probes, log)
	if err != nil || inst.Source != "xenstore" {
		t.Fatalf("ReadFirst = %+v, %v; want the XenStore instance", inst, err)
	}
	if !strings.Contains(logs.String(), "configdrive:/dev/sr0") || !strings.Contains(logs.String(), "unexpected EOF") {
		t.Errorf("the failed config drive is not logged:\n%s", logs.String())
	}
	if _, err := ReadFirst(context.Background(), []Probe{probe("none")}, log); !errors.Is(err, ErrNoSource) {
		t.Errorf("nothing present: err %v, want ErrNoSource", err)
	}
	_, err = ReadFirst(context.Background(), probes[:1], log)
	if err == nil || errors.Is(err, ErrNoSource) || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("only a broken source: err %v, want its read error", err)
	}
}
