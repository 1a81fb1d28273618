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

// demoNotifyEvery is how often the demo's Adyen sandbox sends the REFUND
// notifications of the refunds it received.
const demoNotifyEvery = 5 * time.Second

// startAdyenDemo runs the Adyen sandbox for the demo, imports its two
// reports into the demo store db through the same reader as doublecheck
// import, and returns the environment the demo runs with: every ADYEN_
// setting is the sandbox's, whatever the user's environment says, so the demo
// never reaches a real Adyen account. While the demo runs, the sandbox's
// REFUND notifications confirm its refunds a few seconds after they were
// received, verified as doublecheck adyen-notifications verifies them.
func startAdyenDemo(ctx context.Context, env Env, db string, seed int64) (Env, func(context.Context) error, error) {
	sb := sandbox.NewAdyen(sandbox.AdyenOptions{Seed: seed, Now: env.Now().Add(-time.Hour)})
	base, stopServer, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		return env, nil, fmt.Errorf("start the Adyen sandbox: %w", err)
	}
	notifyCtx, stopNotify := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(demoNotifyEvery)
		defer ticker.Stop()
		var waiting [][]byte
		for {
			select {
			case <-notifyCtx.Done():
				return
			case <-ticker.C:
				waiting = confirmDemoRefunds(notifyCtx, db, append(waiting, sb.Notify()...))
			}
		}
	}()
	stop := func(ctx context.Context) error {
		stopNotify()
		<-done
		return stopServer(ctx)
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

// confirmDemoRefunds records the outcome of refunds the demo's Adyen sandbox
// received, from its signed notification bodies, and returns the bodies of
// refunds the ledger does not hold as received yet (their answer is being
// recorded): they are tried again at the next tick.
func confirmDemoRefunds(ctx context.Context, db string, bodies [][]byte) (waiting [][]byte) {
	if len(bodies) == 0 {
		return nil
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		return bodies
	}
	defer st.Close()
	for _, body := range bodies {
		events, _, err := adyenapi.ReadNotifications(bytes.NewReader(body), "the Adyen sandbox's notification", sandbox.AdyenHMACKey)
		if err != nil {
			continue // not signed by the sandbox: never recorded
		}
		for _, ev := range events {
			if st.ConfirmRefund(ctx, ev.RefundPsp, ev.Outcome()) != nil {
				waiting = append(waiting, body)
			}
		}
	}
	return waiting
}
