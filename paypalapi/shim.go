package paypalapi

import "github.com/doublecheck-dev/doublecheck/reconcile"

// Until the refunding package lands: its Receipt and Failure.
type receipt struct {
	RefundID             string
	AwaitingConfirmation bool
	ChargeAfter          *reconcile.Charge
}

type failure struct {
	Unknown, KeyConflict  bool
	Code, Message, Reason string
}
