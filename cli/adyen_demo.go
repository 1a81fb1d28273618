package cli

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/doublecheck-dev/doublecheck/adyenapi"
	"github.com/doublecheck-dev/doublecheck/reconcile"
	"github.com/doublecheck-dev/doublecheck/sandbox"
	"github.com/doublecheck-dev/doublecheck/store"
)

// startAdyenDemo runs the Adyen sandbox for the demo, imports its two
// reports into the demo store db through the same reader as doublecheck
// import, and returns the environment the demo runs with: every ADYEN_
// setting is the sandbox's, whatever the user's environment says, so the demo
// never reaches a real Adyen account.
func startAdyenDemo(ctx context.Context, env Env, db string, seed int64) (Env, func(context.Context) error, error) {
	sb := sandbox.NewAdyen(sandbox.AdyenOptions{Seed: seed, Now: env.Now().Add(-time.Hour)})
	base, stop, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		return env, nil, fmt.Errorf("start the Adyen sandbox: %w", err)
	}
	var received, settlement bytes.Buffer
	if err := sb.WriteReceivedPaymentDetails(&received, sandbox.Layout2023); err != nil {
		return env, stop, err
	}
	if err := sb.WriteSettlementDetails(&settlement, sandbox.LayoutPre2023); err != nil {
		return env, stop, err
	}
	files := []adyenapi.File{
		{R: &received, Name: "the Adyen sandbox's Received payment details report"},
		{R: &settlement, Name: "the Adyen sandbox's Settlement details report"},
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		return env, stop, err
	}
	defer st.Close()
	err = st.ImportCharges(ctx, func(imp *store.ChargeImport) error {
		_, err := adyenapi.ReadReports(files, adyenapi.Options{OrderField: "order_id", Now: env.Now()}, func(rec *reconcile.ChargeRecord) error {
			return imp.Add(rec.Charge, rec.Place, rec.Digest)
		})
		return err
	})
	if err != nil {
		return env, stop, fmt.Errorf("import the Adyen sandbox's reports: %w", err)
	}
	settings := map[string]string{
		adyenapi.EnvAPIKey: sandbox.AdyenTestKey, adyenapi.EnvMerchantAccount: sandbox.AdyenMerchantAccount,
		adyenapi.EnvHMACKey: sandbox.AdyenHMACKey, adyenapi.EnvEnvironment: string(adyenapi.EnvTest),
		adyenapi.EnvAPIBase: base, adyenapi.EnvLivePrefix: "",
	}
	getenv := env.Getenv
	env.Getenv = func(name string) string {
		if v, ok := settings[name]; ok {
			return v
		}
		return getenv(name)
	}
	return env, stop, nil
}
