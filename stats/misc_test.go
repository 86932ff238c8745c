package stats

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestShowSchemaJSON checks that "show schema json" answers the embedded
// copy of HAProxy's schema: one JSON document of HAProxy's length,
// newline-terminated.
func TestShowSchemaJSON(t *testing.T) {
	got := cmdShowSchema(nil, []string{"show", "schema", "json"})
	if !strings.HasPrefix(got, `{"$schema":"http://json-schema.org/draft-04/schema#"`) || !strings.HasSuffix(got, "}\n") {
		t.Fatalf("show schema json = %.60q...", got)
	}
	if !json.Valid([]byte(got)) {
		t.Error("show schema json is not valid JSON")
	}
	if len(got) != 2783 {
		t.Errorf("show schema json is %d bytes, want HAProxy's 2783", len(got))
	}
}
