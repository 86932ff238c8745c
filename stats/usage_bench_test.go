package stats

import (
	"math/rand"
	"testing"
)

// BenchmarkUnknownCommand measures the answer to a line of random bytes,
// what a misbehaving client costs the CLI per line.
func BenchmarkUnknownCommand(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	lines := make([]string, 64)
	for i := range lines {
		p := make([]byte, 200)
		rng.Read(p)
		lines[i] = string(p)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for _, args := range splitCommands(lines[i%len(lines)]) {
			if findCommand(args) == nil && !isKnownKeyword(args) {
				_ = usageMessage(args, false)
			}
		}
	}
}
