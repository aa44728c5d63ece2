package provision

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"guestbridge/internal/statefile"
)

// StatusFile is the record of the last boot/apply in the state directory,
// read by `guestbridge status`. It is 0644: it holds what was done, never
// a password, a key or a file's content.
const StatusFile = "status.json"

// StepRecord is one step of the last run, for `guestbridge status`.
type StepRecord struct {
	Part     string   `json:"part"`
	Result   string   `json:"result"` // changed, unchanged, failed, skipped
	Changes  []string `json:"changes,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Error    string   `json:"error,omitempty"`
	Reason   string   `json:"reason,omitempty"` // why it was skipped
}

// Record is what the last boot or apply did.
type Record struct {
	Command    string       `json:"command"` // boot, apply
	Time       time.Time    `json:"time"`
	Source     string       `json:"source,omitempty"`
	Mode       string       `json:"mode,omitempty"`
	ModeReason string       `json:"mode_reason,omitempty"`
	Status     string       `json:"status"` // ok, partial, failed, disabled, no-source
	Steps      []StepRecord `json:"steps,omitempty"`
	Warnings   []string     `json:"warnings,omitempty"`
}

// NewRecord turns a Result into a Record; skipped maps the parts that did
// not run to the reason.
func NewRecord(command string, res Result, skipped map[string]string) Record {
	r := Record{Command: command, Time: time.Now().UTC(), Mode: res.Mode}
	switch res.Status() {
	case OK:
		r.Status = "ok"
	case Partial:
		r.Status = "partial"
	default:
		r.Status = "failed"
	}
	for _, s := range res.Steps {
		sr := StepRecord{Part: s.Part, Changes: s.Changes, Warnings: s.Warnings, Result: "unchanged"}
		switch {
		case s.Err != nil:
			sr.Result, sr.Error = "failed", s.Err.Error()
		case len(s.Changes) > 0:
			sr.Result = "changed"
		}
		r.Steps = append(r.Steps, sr)
	}
	for _, p := range Parts {
		if why, ok := skipped[p]; ok {
			r.Steps = append(r.Steps, StepRecord{Part: p, Result: "skipped", Reason: why})
		}
	}
	return r
}

// WriteRecord replaces the status record in dir atomically.
func WriteRecord(dir string, r Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return statefile.WriteMode(dir, StatusFile, append(b, '\n'), 0o644)
}

// ReadRecord reads the status record in dir; ok is false when there is none.
func ReadRecord(dir string) (r Record, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if errors.Is(err, fs.ErrNotExist) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	return r, true, json.Unmarshal(b, &r)
}
