package reconcile

// Decimals is the number of digits after the point in the currency's major
// unit as doublecheck's minor units count them (see currencies): what a
// reader of major-unit amounts multiplies by.
func Decimals(currency string) int { return decimals(currency) }
