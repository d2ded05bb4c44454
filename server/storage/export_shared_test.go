package storage

// HoldFetches keeps the reports' copy from fetching other instances'
// changes (as if a fetch were running) until release: a test then counts
// only the reads its own calls send.
func (s *Storage) HoldFetches() (release func()) {
	pc := s.progress
	for !pc.fetching.CompareAndSwap(false, true) { // a fetch under way: it ends
	}
	return func() { pc.fetching.Store(false) }
}
