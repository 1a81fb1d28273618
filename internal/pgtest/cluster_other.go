//go:build !unix

package pgtest

// startCluster is unix-only: elsewhere tests use DOUBLECHECK_TEST_POSTGRES.
func startCluster() (string, func(), string) {
	return "", nil, "no throwaway cluster on this system; set " + EnvURL + " to a PostgreSQL URL"
}
