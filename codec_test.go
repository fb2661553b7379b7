package ktables_test

import (
	"reflect"
	"testing"

	"github.com/ktables/ktables"
)

// SPEC C1: built-in codecs round-trip; JSON reads what Python's json.dumps
// writes (spaces after separators, non-ASCII escaped).
func TestCodecs(t *testing.T) {
	b, err := ktables.Bytes().Encode([]byte("x"))
	if err != nil || string(b) != "x" {
		t.Fatal(b, err)
	}
	s, err := ktables.String().Decode([]byte("héllo"))
	if err != nil || s != "héllo" {
		t.Fatal(s, err)
	}
	type svc struct {
		Host  string   `json:"host"`
		Port  int      `json:"port"`
		Tags  []string `json:"tags"`
		Label string   `json:"label"`
	}
	py := []byte(`{"host": "10.0.0.1", "port": 8080, "tags": ["a", "b"], "label": "caf\u00e9"}`)
	v, err := ktables.JSON[svc]().Decode(py)
	want := svc{"10.0.0.1", 8080, []string{"a", "b"}, "café"}
	if err != nil || !reflect.DeepEqual(v, want) {
		t.Fatalf("C1 python json: %+v %v", v, err)
	}
	enc, err := ktables.JSON[svc]().Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ktables.JSON[svc]().Decode(enc)
	if err != nil || !reflect.DeepEqual(back, want) {
		t.Fatalf("C1 round trip %+v %v", back, err)
	}
	if _, err := ktables.JSON[svc]().Decode([]byte("{")); err == nil {
		t.Fatal("C1 bad JSON decoded")
	}
}
