package bench

import (
	"fmt"
	"strings"

	"github.com/ktables/ktables"
)

// ValueSize is the size of every benchmark value, as in the Python
// library's published figures.
const ValueSize = 100

// Payload is the JSON value type: exactly ValueSize bytes encoded.
type Payload struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	On   bool   `json:"on"`
}

var jsonPad = func() string {
	base := len(fmt.Sprintf(`{"id":%d,"name":"","on":true}`, 1_000_000_000))
	return strings.Repeat("x", ValueSize-base)
}()

// Value returns record i's value: a 100-byte JSON object, which the bytes
// codec stores as is and the JSON codec decodes into a Payload.
func Value(i int) []byte {
	return fmt.Appendf(nil, `{"id":%d,"name":"%s","on":true}`, 1_000_000_000+i%1_000_000_000, jsonPad)
}

// FlatKey returns record i's key for flat tables (13 bytes).
func FlatKey(i int) []byte { return fmt.Appendf(nil, "key-%09d", i) }

// FlatKeyString is FlatKey as the string a Writer takes: a write loop
// builds its key in its API's type with one allocation on either side,
// rather than the table side converting the raw side's bytes.
func FlatKeyString(i int) string { return fmt.Sprintf("key-%09d", i) }

// GroupedKey returns record i's composite key: 100 members per group.
func GroupedKey(i int) []byte {
	k, _ := ktables.DefaultKeyCodec.Encode(GroupName(i/100), MemberName(i))
	return []byte(k)
}

// GroupName and MemberName name the groups and members GroupedKey uses.
func GroupName(g int) string  { return fmt.Sprintf("service-%05d", g) }
func MemberName(i int) string { return fmt.Sprintf("host-%07d", i) }
