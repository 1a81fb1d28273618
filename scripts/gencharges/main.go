// Command gencharges writes n Stripe charge objects as JSONL, for the scale
// benchmarks (scripts/bench-scale.sh): about 550 bytes a charge, repeat
// customers, a price list (so amounts collide), guest checkouts by email, an
// order id on every charge and about 1% duplicates (double submits and
// retries), spread over 90 days. The same -n and -seed give the same file.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
)

func main() {
	n := flag.Int("n", 10000, "how many charges")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := generate(w, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gencharges:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gencharges:", err)
		os.Exit(1)
	}
}

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// id is a Stripe-like object id, distinct for every i: prefix, 12 characters
// that look random and i in base 62 on 12 characters.
func id(prefix string, i uint64) string {
	b := []byte(prefix)
	x := i*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
	for range 12 {
		b = append(b, alphabet[x%uint64(len(alphabet))])
		x = x/uint64(len(alphabet)) ^ x<<29
	}
	for range 12 {
		b = append(b, alphabet[i%uint64(len(alphabet))])
		i /= uint64(len(alphabet))
	}
	return string(b)
}

func generate(w *bufio.Writer, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 16))
	const start, span = int64(1788220800), int64(90 * 24 * 3600) // 2026-09-01, 90 days
	prices := make([]int64, 200)
	for i := range prices {
		prices[i] = int64(500 + rng.IntN(300)*100)
	}
	customers := uint64(n/4 + 1)
	for i := 0; i < n; {
		cust := rng.Uint64N(customers)
		created := start + rng.Int64N(span)
		amount := prices[rng.IntN(len(prices))]
		currency := "usd"
		if rng.IntN(10) == 0 {
			currency = "eur"
		}
		status := "succeeded"
		if rng.IntN(50) == 0 {
			status = "failed"
		}
		customer := "null"
		if rng.IntN(3) > 0 {
			customer = strconv.Quote(id("cus_", cust))
		}
		order := "o-" + strconv.Itoa(i)
		if err := write(w, uint64(i), cust, created, amount, currency, status, customer, order); err != nil {
			return err
		}
		i++
		if rng.IntN(100) == 0 && i < n {
			dup := created + 1 + rng.Int64N(300)
			if rng.IntN(3) == 0 { // a double submit: a new order too
				order = "o-" + strconv.Itoa(i)
			}
			if err := write(w, uint64(i), cust, dup, amount, currency, "succeeded", customer, order); err != nil {
				return err
			}
			i++
		}
	}
	return nil
}

func write(w *bufio.Writer, i, cust uint64, created, amount int64, currency, status, customer, order string) error {
	captured := status == "succeeded"
	_, err := fmt.Fprintf(w, `{"id":%q,"object":"charge","amount":%d,"amount_captured":%d,"amount_refunded":0,`+
		`"billing_details":{"email":"buyer%d@example.com","name":"Buyer %d"},"captured":%t,"created":%d,`+
		`"currency":%q,"customer":%s,"description":"Order %s","disputed":false,"livemode":false,`+
		`"metadata":{"order_id":%q},"paid":%t,"payment_intent":%q,"payment_method_details":{"card":`+
		`{"brand":"visa","country":"US","exp_month":%d,"exp_year":2029,"fingerprint":%q,"funding":"credit",`+
		`"last4":"%04d"},"type":"card"},"refunded":false,"status":%q}`+"\n",
		id("ch_", i), amount, amount, cust, cust, captured, created, currency, customer, order, order, captured,
		id("pi_", i), 1+cust%12, id("fp", cust)[:18], cust%10000, status)
	return err
}
