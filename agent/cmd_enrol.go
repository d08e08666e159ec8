package main

import (
	"context"
	"fmt"
	"io"

	"github.com/probity-edu/probity/agent/enrol"
	"github.com/probity-edu/probity/internal/version"
)

func cmdEnrol(ctx context.Context, args []string, stdout, _ io.Writer) error {
	c := newCommon("enrol")
	collector := c.flags.String("collector", "", "collector base URL, e.g. https://probity.trust.example")
	token := c.flags.String("token", "", "one-time enrolment token from `probity-collector agent token --site S`")
	if done, err := c.load(args, stdout); done || err != nil {
		return err
	}
	if *collector == "" || *token == "" {
		return fmt.Errorf("both --collector URL and --token T are required")
	}
	client, err := httpClient(c.config.Collector)
	if err != nil {
		return err
	}
	cred, err := enrol.Enrol(ctx, client, *collector, *token, hostname(), version.Version)
	if err != nil {
		return err
	}
	path := c.config.CredentialPath()
	if err := enrol.Save(path, cred); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Enrolled as agent %s for site %s (%s).\nCredential saved to %s (mode 0600).\nNext: `probity-agent check --config %s`, then start the service.\n",
		cred.AgentID, cred.Site, cred.SiteName, path, *c.path)
	return nil
}
