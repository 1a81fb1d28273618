package reconcile

import "strings"

// currencies maps the ISO 4217 codes of money a charge can be in to the
// decimals of Stripe's amounts in them. The codes are the list the ISO 4217
// maintenance agency (SIX) publishes, as of 2025, without fund codes (BOV, CHE,
// CHW, CLF, COU, MXV, USN, UYI, UYW), precious metals, bond-market units, XDR,
// XSU, XUA and the test and no-currency codes XTS and XXX; plus codes withdrawn
// since 2008 that charges of those years carry (BYR, EEK, HRK, LTL, LVL, MRO,
// SLL, STD, VEF, ZMK, ZWL). The decimals are those of Stripe's zero- and
// three-decimal lists, since amounts are in Stripe's minor units, which differ
// from ISO's exponent for a few currencies.
var currencies = func() map[string]int {
	codes := strings.Fields(`
		aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl
		bsd btn bwp byn bzd cad cdf chf clp cny cop crc cuc cup cve czk djf dkk dop dzd
		egp ern etb eur fjd fkp gbp gel ghs gip gmd gnf gtq gyd hkd hnl htg huf idr ils
		inr iqd irr isk jmd jod jpy kes kgs khr kmf kpw krw kwd kyd kzt lak lbp lkr lrd
		lsl lyd mad mdl mga mkd mmk mnt mop mru mur mvr mwk mxn myr mzn nad ngn nio nok
		npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sdg sek
		sgd shp sle sos srd ssp stn svc syp szl thb tjs tmt tnd top try ttd twd tzs uah
		ugx usd uyu uzs ved ves vnd vuv wst xaf xcd xcg xof xpf yer zar zmw zwg
		byr eek hrk ltl lvl mro sll std vef zmk zwl`)
	m := make(map[string]int, len(codes))
	for _, c := range codes {
		m[c] = 2
	}
	// Stripe's zero-decimal and three-decimal currencies.
	for _, c := range strings.Fields("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf") {
		m[c] = 0
	}
	for _, c := range strings.Fields("bhd jod kwd omr tnd") {
		m[c] = 3
	}
	return m
}()

// KnownCurrency reports whether code (any case, as Stripe writes it in lower
// case) is an ISO 4217 currency a charge can be in.
func KnownCurrency(code string) bool {
	_, ok := currencies[strings.ToLower(code)]
	return ok
}
