package reconcile

// ChargeRecord is one charge read from a file, by any of the formats an
// import reads: the charge, where it is in the file, and a digest of the
// record it came from, which tells a repeat of the charge (the same digest)
// from a conflicting one.
type ChargeRecord struct {
	Charge Charge
	Place  Place
	Digest [16]byte
}
