package paypalapi

import (
	"fmt"
	"strings"

	paypal "github.com/plutov/paypal/v4"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// payPalDecimals is how many decimals PayPal writes and takes for currency.
// PayPal's currency codes (developer.paypal.com/api/rest/reference/currency-codes)
// say of HUF, JPY and TWD: "This currency does not support decimals. If you
// pass a decimal amount, an error occurs." doublecheck's minor units count
// HUF and TWD in hundredths (as Stripe does, reconcile.Decimals), so those
// amounts are scaled on the way in and out; every other currency is as
// doublecheck counts it.
func payPalDecimals(currency string) int {
	switch strings.ToLower(currency) {
	case "huf", "jpy", "twd":
		return 0
	}
	return reconcile.Decimals(currency)
}

// money reads PayPal's money object into doublecheck's minor units of its
// currency. The value is as PayPal's money schema writes it (digits, an
// optional minus and point; no grouping): "10.50", JPY "1050", HUF "1000"
// (1000.00 HUF to doublecheck).
func money(m paypal.Money) (int64, string, error) {
	currency := strings.ToLower(m.Currency)
	if currency == "" || m.Value == "" {
		return 0, "", fmt.Errorf("amount %q %q is incomplete", m.Value, m.Currency)
	}
	if strings.ContainsAny(m.Value, ", +") {
		return 0, "", fmt.Errorf("amount %q %s is not a number", m.Value, m.Currency)
	}
	theirs := payPalDecimals(currency)
	n, err := reconcile.ParseMajorAmountIn(m.Value, currency, theirs)
	if err != nil {
		return 0, "", fmt.Errorf("amount %q %s: %w", m.Value, m.Currency, err)
	}
	for d := theirs; d < reconcile.Decimals(currency); d++ {
		n *= 10
	}
	return n, currency, nil
}

// payPalValue writes amount, in doublecheck's minor units of currency, as
// PayPal's money value: whole units for HUF, JPY and TWD ("1000", never
// "1000.00", which PayPal refuses). An amount with a fraction PayPal cannot
// take is an error: nothing can be sent for it.
func payPalValue(amount int64, currency string) (string, error) {
	v := amount
	for d := reconcile.Decimals(currency); d > payPalDecimals(currency); d-- {
		if v%10 != 0 {
			return "", &unsendableError{msg: fmt.Sprintf("PayPal takes %s in whole units only, so a refund of %s cannot be sent to PayPal",
				strings.ToUpper(currency), reconcile.FormatMoney(amount, currency))}
		}
		v /= 10
	}
	if payPalDecimals(currency) == 0 {
		return fmt.Sprint(v), nil
	}
	return reconcile.FormatAmount(v, currency), nil
}

// unsendableError is a refund doublecheck refused to send: PayPal was not
// asked, so the outcome is known (nothing refunded).
type unsendableError struct{ msg string }

func (e *unsendableError) Error() string { return e.msg }
