package datasource

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	inst := Instance{InstanceID: "i-1", AdminPass: "hunter2-S3cret"}
	js, err := json.Marshal(inst)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		string(js),
		fmt.Sprint(inst.AdminPass), fmt.Sprintf("%v %s %q %+v", inst.AdminPass, inst.AdminPass, inst.AdminPass, inst),
		fmt.Sprintf("%#v", inst),
	} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(js, &back); err != nil || back["admin_pass"] != "<redacted>" {
		t.Errorf("JSON should say the password is set but redacted: %s", js)
	}
	if inst.AdminPass.Reveal() != "hunter2-S3cret" {
		t.Error("Reveal must return the value")
	}
	if Secret("").String() != "" {
		t.Error("an empty secret prints empty (nothing is set)")
	}
}
