package conformance

// TableCases returns the cases of the table contract (SPEC 2 to 9): the core
// library over the harness's transport.
func TableCases() []Case {
	return nil
}
