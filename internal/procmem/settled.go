package procmem

import "log/slog"

// Settled returns a client.Config.OnSettled for a daemon: TrimImage, with
// what it did logged at debug level (a failure too: nothing depends on
// it).
func Settled(log *slog.Logger) func() {
	return func() {
		n, err := TrimImage()
		if err != nil {
			log.Debug("procmem: the executable's pages not given back", "err", err)
			return
		}
		log.Debug("procmem: the session is settled: the executable's pages given back to the page cache", "kib", n>>10)
	}
}
