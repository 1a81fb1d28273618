package adyenapi

import (
	"fmt"
	"strings"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// adyenDecimals is Adyen's currency table: the currencies Adyen takes and the
// number of decimals of its minor units in each
// (https://docs.adyen.com/development-resources/currency-codes). It is not
// ISO 4217's, nor Stripe's (doublecheck's minor units, reconcile.Decimals):
// Adyen marks CLP "2 (differs from standard)", CVE "0 (differs from
// standard)", and says that for "CLP, CVE, IDR, and ISK the standard has a
// different number of decimals" than its table (IDR 0, ISK 2). The codes from
// AED to ETB are as the page lists them today; the rest as copies of the page
// in public code list them (with
// the rows of earlier versions, ANG, BGN, EEK, HRK, LTL, LVL and SLL, which
// old reports carry). Adyen's amounts (refund requests, notifications, the
// reports' major units) are in these decimals.
var adyenDecimals = func() map[string]int {
	m := map[string]int{}
	for _, c := range strings.Fields(`
		aed all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob brl bsd bwp byn bzd
		cad chf clp cnh cny cop crc cup czk dkk dop dzd eek egp etb eur fjd fkp gbp gel ghs gip
		gmd gtq gyd hkd hnl hrk htg huf ils inr isk jmd kes kgs khr kyd kzt lak lbp lkr ltl lvl mad mdl
		mkd mmk mnt mop mru mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd pab pen pgk php
		pkr pln qar ron rsd rub sar sbd scr sek sgd shp sle sll sos srd stn svc szl thb top try
		ttd twd tzs uah usd uyu uzs vef wst xcd yer zar zmw`) {
		m[c] = 2
	}
	for _, c := range strings.Fields("cve djf gnf idr jpy kmf krw pyg rwf ugx vnd vuv xaf xof xpf") {
		m[c] = 0
	}
	for _, c := range strings.Fields("bhd iqd jod kwd lyd omr tnd") {
		m[c] = 3
	}
	return m
}()

// Decimals is the number of decimals of Adyen's minor units of currency
// (any case); an error, one sentence, for a currency Adyen does not list.
func Decimals(currency string) (int, error) {
	d, ok := adyenDecimals[strings.ToLower(currency)]
	if !ok {
		return 0, fmt.Errorf("%s is not in Adyen's currency table (docs.adyen.com/development-resources/currency-codes), so doublecheck does not know how Adyen counts it", strings.ToUpper(currency))
	}
	return d, nil
}

// AdyenValue converts an amount in doublecheck's minor units of currency to
// Adyen's, refusing a currency Adyen does not list and an amount Adyen cannot
// express.
func AdyenValue(amount int64, currency string) (int64, error) {
	cur := strings.ToLower(currency)
	theirs, err := Decimals(cur)
	if err != nil {
		return 0, err
	}
	v, exact := scale(amount, reconcile.Decimals(cur), theirs)
	if !exact {
		return 0, fmt.Errorf("%s cannot be sent to Adyen, which counts %s with %d decimals", reconcile.FormatMoney(amount, cur), strings.ToUpper(cur), theirs)
	}
	return v, nil
}

// FromAdyenValue converts an amount in Adyen's minor units of currency (a
// notification's) to doublecheck's.
func FromAdyenValue(value int64, currency string) (int64, error) {
	cur := strings.ToLower(currency)
	theirs, err := Decimals(cur)
	if err != nil {
		return 0, err
	}
	v, exact := scale(value, theirs, reconcile.Decimals(cur))
	if !exact {
		return 0, fmt.Errorf("%d %s (Adyen minor units) has a fraction of doublecheck's smallest unit of %s", value, strings.ToUpper(cur), strings.ToUpper(cur))
	}
	return v, nil
}

// ParseAmount reads an amount a report writes in major units of currency
// ("12.50"), with Adyen's decimals for it, into doublecheck's minor units.
func ParseAmount(s, currency string) (int64, error) {
	d, err := Decimals(currency)
	if err != nil {
		return 0, err
	}
	n, err := reconcile.ParseMajorAmountIn(s, currency, d)
	if err != nil {
		return 0, err
	}
	v, exact := scale(n, d, reconcile.Decimals(currency))
	if !exact {
		return 0, fmt.Errorf("%q %s has a fraction of doublecheck's smallest unit of %s", s, strings.ToUpper(currency), strings.ToUpper(currency))
	}
	return v, nil
}

// scale moves amount from one number of decimals to another; exact is false
// when digits would be lost.
func scale(amount int64, from, to int) (v int64, exact bool) {
	for ; from < to; from++ {
		amount *= 10
	}
	for ; from > to; from-- {
		if amount%10 != 0 {
			return 0, false
		}
		amount /= 10
	}
	return amount, true
}
