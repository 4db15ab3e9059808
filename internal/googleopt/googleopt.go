// Package googleopt builds the client options of the Google Cloud client
// libraries from parole's engine configuration (stt/google, tts/google).
package googleopt

import (
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// ClientOptions returns the options for an endpoint (empty: Google's) and
// credentials: none over plain gRPC when insecureConn (tests, emulators),
// else a service account key file, else an API key, else the library's
// default credentials.
func ClientOptions(endpoint, credentialsFile, apiKey string, insecureConn bool) []option.ClientOption {
	var o []option.ClientOption
	if endpoint != "" {
		o = append(o, option.WithEndpoint(endpoint))
	}
	switch {
	case insecureConn:
		o = append(o, option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	case credentialsFile != "":
		o = append(o, option.WithAuthCredentialsFile(option.ServiceAccount, credentialsFile))
	case apiKey != "":
		o = append(o, option.WithAPIKey(apiKey))
	}
	return o
}
