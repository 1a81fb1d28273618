package reconcile

import "strings"

// iso4217 holds the ISO 4217 codes of money a charge can be in: the list the ISO 4217
// maintenance agency (SIX) publishes, as of 2025, without fund codes (BOV, CHE, CHW, CLF,
// COU, MXV, USN, UYI, UYW), precious metals, bond-market units, XDR, XSU, XUA and
// the test and no-currency codes XTS and XXX; plus codes withdrawn since 2008
// that charges of those years carry (BYR, EEK, HRK, LTL, LVL, MRO, SLL, STD, VEF,
// ZMK, ZWL). Each currency's decimals for amounts are Stripe's (see decimals).
var iso4217 = func() map[string]bool {
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
	set := make(map[string]bool, len(codes))
	for _, c := range codes {
		set[c] = true
	}
	return set
}()

// KnownCurrency reports whether code (any case, as Stripe writes it in lower
// case) is an ISO 4217 currency a charge can be in.
func KnownCurrency(code string) bool { return iso4217[strings.ToLower(code)] }
