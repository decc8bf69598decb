// Package integration holds tests of the built functions as Lambda runs them:
// each function compiled for this host (as `make build` compiles it for
// Lambda) and started under the AWS Lambda Runtime Interface Emulator, the
// runtime `sam local invoke` uses, with a local org behind it and, for the
// secret, a real moto_server. They check what unit tests cannot: the sample
// events of events/ against the real binaries, configuration from Secrets
// Manager, and the errorType a workflow sees for each error of the catalogue.
//
// The tests are skipped when aws-lambda-rie (make tools) or moto_server is
// missing, and fail instead when CI is set.
package integration
