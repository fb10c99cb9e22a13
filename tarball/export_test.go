package tarball

// SetMaxEntries lowers the entry limit for a test and returns what restores it.
func SetMaxEntries(n int) (restore func()) {
	old := maxEntries
	maxEntries = n
	return func() { maxEntries = old }
}
