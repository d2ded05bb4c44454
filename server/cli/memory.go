package cli

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the Go runtime's soft memory limit that serve sets
// when GOMEMLIMIT is unset. Most of the portal's peak is garbage between
// collections (FerretDB decodes every document a scan reads, and Go lets
// the heap double before it collects); under the limit the collector runs
// earlier instead. The binary and the runtime add about 35 MB of RSS to
// it, so 200 MiB keeps a 10,000-employee portal far under 250 MB. The
// live heap grows with the people, to about 170 MB at 100,000 employees
// (the directory, the packed progress, FerretDB): near the limit, where
// the collector runs often; such a company may raise GOMEMLIMIT
// (GOMEMLIMIT=off sets none).
const defaultMemoryLimit = 200 << 20

// setMemoryLimit applies defaultMemoryLimit unless GOMEMLIMIT (read by the
// runtime itself) says otherwise.
func setMemoryLimit(log *slog.Logger) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	log.Info("memory limit", "mib", defaultMemoryLimit>>20, "from", "default (GOMEMLIMIT unset)")
}
