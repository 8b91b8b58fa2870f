package yamlfast

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// benchFiles are a 5,000-schedule file in each of the two styles schedule
// files are written in.
func benchFiles() map[string][]byte {
	var flow, block strings.Builder
	flow.WriteString("schedules:\n")
	block.WriteString("schedules:\n")
	for i := range 5000 {
		fmt.Fprintf(&flow, "  - {id: s-%07d, account: bench, cron: \"0 0 1 1 *\", post: {text: \"post {{ .Run }}\"}}\n", i)
		fmt.Fprintf(&block, "  - id: s-%07d\n    account: brand-%d\n    timezone: Europe/Berlin\n    cron: \"%d 9 * * 1-5\"\n"+
			"    jitter: 5m\n    metrics: [1h, 24h, 7d]\n    post:\n      text: \"Tip #{{ .Run }}: see https://example.com/tips/%d\"\n", i, i%10, i%60, i)
	}
	return map[string][]byte{"flow": []byte(flow.String()), "block": []byte(block.String())}
}

// slab is an Alloc that keeps its memory from one Parse to the next, as
// the schedules package's scratch does.
type slab struct {
	nodes []yaml.Node
	ptrs  []*yaml.Node
	n, p  int
}

func (s *slab) reset() { s.n, s.p = 0, 0 }

func (s *slab) Node() *yaml.Node {
	if s.n == len(s.nodes) {
		s.nodes = append(s.nodes, make([]yaml.Node, len(s.nodes)+1024)...)
	}
	s.n++
	return &s.nodes[s.n-1]
}

func (s *slab) Ptrs(n int) []*yaml.Node {
	for s.p+n > len(s.ptrs) {
		s.ptrs = append(s.ptrs, make([]*yaml.Node, len(s.ptrs)+1024)...)
	}
	s.p += n
	return s.ptrs[s.p-n : s.p : s.p]
}

// BenchmarkParse compares Parse with yaml.v3 on the same files.
func BenchmarkParse(b *testing.B) {
	for name, data := range benchFiles() {
		b.Run(name+"/yamlfast", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			a := &slab{}
			for b.Loop() {
				a.reset()
				if _, ok := Parse(data, a); !ok {
					b.Fatal("declined")
				}
			}
		})
		b.Run(name+"/yaml.v3", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v3(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
