package stripeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"golang.org/x/sync/errgroup"

	"github.com/doublecheck-dev/doublecheck/reconcile"
)

// The event types sync reads.
const (
	eventChargeSucceeded = "charge.succeeded"
	eventChargeFailed    = "charge.failed"
	eventChargeRefunded  = "charge.refunded"
	eventChargeCaptured  = "charge.captured"
	eventDisputeCreated  = "charge.dispute.created"
	// The request that created a PaymentIntent: with Stripe.js the charge's
	// own event is the browser's confirmation, and this is the server's call.
	eventIntentCreated = "payment_intent.created"
	// A completed Checkout Session: its client_reference_id names the cart.
	eventCheckoutCompleted = "checkout.session.completed"
)

// eventTypes are the events sync reads. A store whose last sync read other
// types reads the whole 30 days again, so the new kinds of evidence reach
// every charge Stripe still has events for.
var eventTypes = []string{eventChargeSucceeded, eventChargeFailed, eventChargeCaptured, eventChargeRefunded,
	eventDisputeCreated, eventIntentCreated, eventCheckoutCompleted}

// eventTypesList is eventTypes as the checkpoint records them.
var eventTypesList = strings.Join(eventTypes, ",")

// batch is what one page turns into.
type batch struct {
	charges        []reconcile.Charge
	keys           []reconcile.KeyRecord
	obs            reconcile.Observations
	lastID         string
	newest, oldest int64
}

func (b *batch) saw(id string, created int64) {
	if b.lastID == "" {
		b.newest, b.oldest = created, created
	}
	b.lastID = id
	b.newest, b.oldest = max(b.newest, created), min(b.oldest, created)
}

func chargesBatch(items []json.RawMessage, fetchedAt, now time.Time) (batch, error) {
	b := batch{charges: make([]reconcile.Charge, 0, len(items))}
	for _, raw := range items {
		ch, err := decodeCharge(raw, fetchedAt, now)
		if err != nil {
			return batch{}, fmt.Errorf("the server sent %w", err)
		}
		b.charges = append(b.charges, ch)
		b.saw(ch.ID, ch.Created.Unix())
	}
	return b, nil
}

// eventsBatch turns events into key records and charge updates. A
// charge.succeeded or charge.failed event's request.idempotency_key is the key
// the application sent when it created the charge (a charge.captured or
// charge.refunded event's key belongs to the capture or refund request, so it is
// not one). Capture and refund events are how a change to an old charge arrives:
// incremental syncs list only new charges, so an authorisation captured later
// would otherwise stay uncaptured in the store. Charge objects in events are
// saved as observed at the event's time, so the store's newest-wins rule keeps a
// later list or event from being overwritten. A dispute event carries
// the dispute, not the charge: the charge is fetched again (one request per
// dispute, which are rare) so its stored state is Stripe's own, not a guess.
func (r *syncRun) eventsBatch(ctx context.Context, items []json.RawMessage) (batch, error) {
	var (
		b        batch
		disputes []disputeEvent
	)
	for _, raw := range items {
		var ev stripe.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return batch{}, fmt.Errorf("the server sent an unreadable event: %w", err)
		}
		b.saw(ev.ID, ev.Created)
		if ev.Data == nil {
			continue
		}
		observed := time.Unix(ev.Created, 0).UTC()
		switch ev.Type {
		case eventChargeSucceeded, eventChargeFailed, eventChargeCaptured, eventChargeRefunded:
			ch, err := decodeCharge(ev.Data.Raw, observed, r.opts.Now())
			if err != nil {
				return batch{}, fmt.Errorf("event %s (%s): %w", ev.ID, ev.Type, err)
			}
			b.charges = append(b.charges, ch)
			createdByRequest := ev.Type == eventChargeSucceeded || ev.Type == eventChargeFailed
			if createdByRequest && ev.Request != nil && ev.Request.IdempotencyKey != "" {
				b.keys = append(b.keys, reconcile.KeyRecord{Key: ev.Request.IdempotencyKey, ChargeID: ch.ID,
					Sources: []string{reconcile.SourceEvent}, SeenAt: observed})
			}
			if createdByRequest {
				b.seeRequest(&ev, ch.ID, observed)
			}
		case eventIntentCreated:
			var pi struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(ev.Data.Raw, &pi); err != nil || pi.ID == "" {
				return batch{}, fmt.Errorf("event %s (%s): not a PaymentIntent: %v", ev.ID, ev.Type, err)
			}
			b.seeRequest(&ev, pi.ID, observed)
		case eventCheckoutCompleted:
			var cs stripe.CheckoutSession
			if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil || cs.ID == "" {
				return batch{}, fmt.Errorf("event %s (%s): not a Checkout Session: %v", ev.ID, ev.Type, err)
			}
			if cs.PaymentIntent == nil || cs.PaymentIntent.ID == "" {
				continue // a subscription or setup session: no payment of its own
			}
			b.obs.Checkouts = append(b.obs.Checkouts, reconcile.CheckoutRecord{Session: cs.ID, PaymentIntent: cs.PaymentIntent.ID,
				ClientReferenceID: cs.ClientReferenceID, Metadata: cs.Metadata, CompletedAt: observed})
		case eventDisputeCreated:
			var d stripe.Dispute
			if err := json.Unmarshal(ev.Data.Raw, &d); err != nil {
				return batch{}, fmt.Errorf("event %s (%s): %w", ev.ID, ev.Type, err)
			}
			if _, seen := r.cp.DisputesSeen[ev.ID]; seen || d.Charge == nil || d.Charge.ID == "" {
				continue
			}
			disputes = append(disputes, disputeEvent{id: ev.ID, created: ev.Created, charge: d.Charge.ID})
		}
	}
	charges, err := r.disputedCharges(ctx, disputes)
	if err != nil {
		return batch{}, err
	}
	b.charges = append(b.charges, charges...)
	return b, nil
}

// seeRequest records what the event says about the API request that created
// object: its key, or that it carried none. An event with no request id was
// not caused by an API request (Stripe made the object itself, as for an
// invoice's charge), so it says nothing about keys.
func (b *batch) seeRequest(ev *stripe.Event, object string, at time.Time) {
	if ev.Request == nil || ev.Request.ID == "" {
		return
	}
	b.obs.Requests = append(b.obs.Requests, reconcile.RequestRecord{Object: object, Key: ev.Request.IdempotencyKey, SeenAt: at})
}

type disputeEvent struct {
	id      string
	created int64
	charge  string
}

// disputedCharges fetches the charges of a page's dispute events, all at once
// (the pacer still spaces them), so a page full of disputes costs one round
// trip of waiting rather than one per dispute.
func (r *syncRun) disputedCharges(ctx context.Context, disputes []disputeEvent) ([]reconcile.Charge, error) {
	charges := make([]reconcile.Charge, len(disputes))
	g, gctx := errgroup.WithContext(ctx)
	for i, d := range disputes {
		g.Go(func() error {
			ch, err := r.c.getCharge(gctx, d.charge)
			if err != nil {
				return fmt.Errorf("event %s (%s): %w", d.id, eventDisputeCreated, err)
			}
			c := chargeFromStripe(ch, nil, servedAt(ch.LastResponse))
			// Checked as every charge that comes in is: an impossible one
			// would count in the money at risk.
			if err := reconcile.ValidateCharge(c, r.opts.Now()); err != nil {
				return fmt.Errorf("event %s (%s): the server sent %w", d.id, eventDisputeCreated, err)
			}
			charges[i] = c
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err // the first is enough: the sync stops and resumes from here
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.disputes == nil {
		r.disputes = map[string]int64{}
	}
	for _, d := range disputes {
		r.disputes[d.id] = d.created
	}
	return charges, nil
}
