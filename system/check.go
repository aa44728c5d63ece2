package system

// CheckHostname reports whether WriteHostname and SetHostsEntry would
// accept name, with the reason when it would not; callers skip a bad name
// and apply the rest.
func CheckHostname(name string) error {
	_, _, err := parseHostname(name)
	return err
}

// CheckAuthorizedKey reports whether SetAuthorizedKeys would accept line
// (one authorized_keys line), with the reason (never the key text) when it
// would not.
func CheckAuthorizedKey(line string) error { return checkAuthorizedKey(line) }
