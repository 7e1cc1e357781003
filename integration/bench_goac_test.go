package integration

import (
	"fmt"
	"testing"

	"github.com/pppoed/pppoed/integration/lab"
)

// startBenchGoAC runs the scripted AC (goac_test.go) as a fast one: its
// session is ready before its PADS, and its LCP Configure-Request follows
// the PADS at once, racing the client's set-up of its channel. Each
// connect gets a fresh one (its pppox socket serves one session).
func startBenchGoAC(b *testing.B, p *lab.Pair) benchAC {
	var ac *goAC
	start := func() {
		if ac != nil {
			ac.stop() // again at the cleanup, which does nothing then
		}
		ac = startGoAC(b, p.AC, p.ACIf, false, nil, func(ac *goAC) { ac.eagerLCP = true })
	}
	start()
	return benchAC{name: "go AC", user: "go-user", password: "go-pass", renew: start,
		log: func() string {
			ac.mu.Lock()
			defer ac.mu.Unlock()
			return fmt.Sprintf("go AC: %d sessions, %d PADTs", len(ac.sessions), ac.padts)
		},
		idle: func() (bool, error) { return ac.idle(), nil }}
}
