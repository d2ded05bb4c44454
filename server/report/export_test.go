package report

import "time"

// SetOrganisationHook makes organisation views whose computation took
// slow or more answerable while the next one computes, and runs hook
// before each computation (nil: none).
func SetOrganisationHook(s *Service, slow time.Duration, hook func()) {
	s.orgMu.Lock()
	defer s.orgMu.Unlock()
	s.orgSlow, s.beforeOrg = slow, hook
}

// WaitOrganisation waits for the organisation view being computed, if any.
func WaitOrganisation(s *Service) {
	s.orgMu.Lock()
	run := s.orgRun
	s.orgMu.Unlock()
	if run != nil {
		<-run.done
	}
}
