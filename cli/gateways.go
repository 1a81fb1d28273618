package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/doublecheck-dev/doublecheck/adyenapi"
	"github.com/doublecheck-dev/doublecheck/paypalapi"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/refunding"
	"github.com/doublecheck-dev/doublecheck/store"
	"github.com/doublecheck-dev/doublecheck/stripeapi"
)

// refundSetup is what refunds can go through: the gateway of every provider
// whose credentials are configured, and for the others what would configure
// them.
type refundSetup struct {
	gateways map[reconcile.Provider]refunding.Gateway
	// unconfigured says, for each provider without a gateway, what would
	// give it one (the environment variables to set), or why the ones set
	// give none.
	unconfigured map[reconcile.Provider]string
	notes        []string // how each configured provider is set up, for stderr
}

// refundGateways sets up refunds through every provider whose credentials
// are configured, for a store of mode live: Stripe through client (the key the
// command connected with), PayPal through pp (--provider paypal's client) or
// else PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_ENV, Adyen through
// ADYEN_API_KEY, ADYEN_MERCHANT_ACCOUNT and ADYEN_ENV. No provider's
// credentials are needed for another's charges.
func refundGateways(env Env, client *stripeapi.Client, pp *paypalapi.Client, live bool) refundSetup {
	rs := refundSetup{gateways: map[reconcile.Provider]refunding.Gateway{}, unconfigured: map[reconcile.Provider]string{}}
	if client != nil {
		rs.gateways[reconcile.ProviderStripe] = client.RefundGateway(Version)
	} else {
		rs.unconfigured[reconcile.ProviderStripe] = "pass --api-key, set STRIPE_API_KEY or run `stripe login`"
	}
	if pp == nil {
		var err error
		if pp, err = paypalFromEnv(env, live); err != nil {
			rs.unconfigured[reconcile.ProviderPayPal] = err.Error()
			rs.notes = append(rs.notes, "PayPal refunds are off: "+err.Error())
		} else if pp != nil {
			rs.notes = append(rs.notes, fmt.Sprintf("PayPal refunds through %s (%s), credentials from %s and %s",
				pp.BaseURL(), pp.Env(), paypalapi.EnvClientID, paypalapi.EnvSecret))
		}
	}
	if pp != nil {
		rs.gateways[reconcile.ProviderPayPal] = pp.RefundGateway(Version)
	} else if _, said := rs.unconfigured[reconcile.ProviderPayPal]; !said {
		rs.unconfigured[reconcile.ProviderPayPal] = fmt.Sprintf("set %s, %s and %s", paypalapi.EnvClientID, paypalapi.EnvSecret, envPayPalEnv)
	}
	gw, note := adyenGateway(env, live)
	if note != "" {
		rs.notes = append(rs.notes, note)
	}
	if gw != nil {
		rs.gateways[reconcile.ProviderAdyen] = gw
	} else if note != "" {
		rs.unconfigured[reconcile.ProviderAdyen] = strings.TrimPrefix(note, "Adyen refunds are off: ")
	} else {
		rs.unconfigured[reconcile.ProviderAdyen] = fmt.Sprintf("set %s, %s and %s", adyenapi.EnvAPIKey, adyenapi.EnvMerchantAccount, adyenapi.EnvEnvironment)
	}
	return rs
}

// refunder is a Refunder through rs's gateways.
func (rs refundSetup) refunder(r *refunding.Refunder) *refunding.Refunder {
	if len(rs.gateways) > 0 {
		r.Gateways = rs.gateways
	}
	r.Unconfigured = rs.unconfigured
	return r
}

// note is rs.notes as lines for stderr, "" for none.
func (rs refundSetup) note() string { return strings.Join(rs.notes, "\n") }

// paypalConfigured is whether the environment holds PayPal credentials.
func paypalConfigured(env Env) bool {
	return strings.TrimSpace(env.Getenv(paypalapi.EnvClientID)) != "" || strings.TrimSpace(env.Getenv(paypalapi.EnvSecret)) != ""
}

// paypalFromEnv is the PayPal client the environment configures for a store
// of mode live; nil without PayPal credentials. It asks PayPal nothing: a
// refund of a capture of another PayPal account than the credentials' is
// refused by PayPal, and no money moves.
func paypalFromEnv(env Env, live bool) (*paypalapi.Client, error) {
	if !paypalConfigured(env) {
		return nil, nil
	}
	var pf providerFlags // the environment's PAYPAL_ENV and PAYPAL_API_BASE
	c, err := pf.paypalClient(env)
	if err != nil {
		return nil, err
	}
	if (c.Env() == paypalapi.Live) != live {
		return nil, fmt.Errorf("%s=%s but the store is a %s store", envPayPalEnv, c.Env(), modeName(live))
	}
	return c, nil
}

// paypalOnly is whether PayPal is the only provider besides Stripe whose
// credentials the environment holds.
func paypalOnly(env Env) bool {
	_, adyen, _ := adyenapi.ConfigFromEnv(env.Getenv)
	return paypalConfigured(env) && !adyen
}

// keylessMode is the mode of the store refunds without a Stripe key work on,
// from the credentials of the other providers: ADYEN_ENV's, else PAYPAL_ENV's.
// configured is false when neither Adyen nor PayPal is configured.
func keylessMode(env Env) (live, configured bool, err error) {
	cfg, adyen, err := adyenapi.ConfigFromEnv(env.Getenv)
	if adyen {
		return cfg.Env == adyenapi.EnvLive, true, err
	}
	if !paypalConfigured(env) {
		return false, false, nil
	}
	e, err := paypalapi.ParseEnvironment(env.Getenv(envPayPalEnv))
	if err != nil {
		return false, true, fmt.Errorf("%s: %w", envPayPalEnv, err)
	}
	return e == paypalapi.Live, true, nil
}

// keylessStore is the store refunds work on without a Stripe key, when
// another provider is configured: --db, else the local store of imported data
// of the configured provider's mode, which must exist. A --db store of known
// mode keeps its mode (the gateways of a provider set up for the other mode
// are then off, and say so). errNoKey is returned as it is when no provider
// is configured. With readable, a store this user may not write is opened
// read-only, and readOnly says so; without, it is refused.
func keylessStore(ctx context.Context, env Env, sh *shared, errNoKey error, readable bool) (st *store.Store, live, readOnly bool, err error) {
	live, configured, err := keylessMode(env)
	switch {
	case !configured:
		return nil, false, false, errNoKey
	case err != nil && sh.db == "":
		return nil, false, false, err
	}
	sh.keylessLive = &live
	path, acct, err := sh.localStorePath(ctx, env, true)
	if err != nil {
		return nil, false, false, err
	}
	st, err = store.OpenExisting(ctx, path)
	if errors.Is(err, store.ErrReadOnly) && readable {
		st, err = store.OpenReadOnly(ctx, path)
		readOnly = err == nil
	}
	if err != nil {
		return nil, false, false, sh.explainNoStore(err, path, acct)
	}
	storeLive, known, err := st.Mode(ctx)
	if err != nil {
		st.Close()
		return nil, false, false, err
	}
	if known {
		live = storeLive
	}
	return st, live, readOnly, nil
}

// resumeTarget is what `doublecheck refund --resume` must name to reach st,
// as every message about a pending refund prints it: a PayPal account's store
// is found through the PayPal credentials (--provider paypal --paypal-env,
// and --paypal-base when pf has one); a store named by --db, or one of
// imported data, which no account finds, by --db. A server given with
// --api-base is named too. pf is nil for a command without the provider flags.
func resumeTarget(ctx context.Context, st *store.Store, sh *shared, pf *providerFlags) (reconcile.ResumeTarget, error) {
	t := reconcile.ResumeTarget{StripeBase: sh.apiBase}
	environment, err := st.State(ctx, stateEnvironment)
	if err != nil {
		return t, err
	}
	for _, e := range []paypalapi.Environment{paypalapi.Sandbox, paypalapi.Live} {
		if environment == e.Title() {
			t.PayPalEnv, t.StripeBase = string(e), ""
			if pf != nil {
				t.PayPalBase = pf.paypalBase
			}
		}
	}
	name, _, err := storeAccount(ctx, st)
	if err != nil {
		return t, err
	}
	if sh.db != "" || name == "" {
		t.Store = shownStore(st.Path())
		if abs, err := filepath.Abs(t.Store); err == nil && !store.IsURL(t.Store) {
			t.Store = abs // the command may be run from another directory
		}
	}
	return t, nil
}
