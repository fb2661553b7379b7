package ktables_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// JSON writes a nil Go slice or map as null, which a Python pydantic model
// rejects for a list or dict field. Give the field a non-nil empty value,
// or tag it omitempty so the Python model's default applies. Go's HTML
// escaping (\u003c for <) is standard JSON that every reader decodes to the
// same string.
func ExampleJSON_nilSlices() {
	type Service struct {
		Name  string   `json:"name"`
		Tags  []string `json:"tags"`            // nil -> null: pydantic's list[str] rejects it
		Zones []string `json:"zones,omitempty"` // nil -> absent: the Python default applies
	}
	codec := ktables.JSON[Service]()

	b, _ := codec.Encode(Service{Name: "<billing>"})
	fmt.Println(string(b))
	b, _ = codec.Encode(Service{Name: "billing", Tags: []string{}})
	fmt.Println(string(b))

	var back map[string]any
	_ = json.Unmarshal([]byte(`{"name":"\u003cbilling\u003e"}`), &back)
	fmt.Println(back["name"])
	// Output:
	// {"name":"\u003cbilling\u003e","tags":null}
	// {"name":"billing","tags":[]}
	// <billing>
}

// Flat tables decode keys as UTF-8 by default, like the Python library; a
// topic with binary keys is read with RawKeys (or a KeyFormat of your own).
func ExampleWithKeyFormat() {
	ctx := context.Background()
	tr := memtransport.New()
	defer tr.Close()

	w, err := ktables.OpenWriter(ctx, tr, "devices", ktables.String(), ktables.WithKeyFormat(ktables.RawKeys()))
	if err != nil {
		panic(err)
	}
	defer w.Close()
	_ = w.Set(ctx, "\xff\x01", "binary key") // not valid UTF-8
	_ = w.Set(ctx, "sensor-7", "text key")

	utf8, err := ktables.Open(ctx, tr, "devices", ktables.String())
	if err != nil {
		panic(err)
	}
	defer utf8.Close()
	raw, err := ktables.Open(ctx, tr, "devices", ktables.String(), ktables.WithKeyFormat(ktables.RawKeys()))
	if err != nil {
		panic(err)
	}
	defer raw.Close()
	fmt.Println("UTF-8 keys:", utf8.Len(), "skipped:", utf8.Stats().KeyDecodeErrors)
	fmt.Println("raw keys:", raw.Len())
	// Output:
	// UTF-8 keys: 1 skipped: 1
	// raw keys: 2
}
