package testenv

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartPostgres(t *testing.T) {
	pg := StartPostgres(t)
	dsn1, dsn2 := pg.NewDatabase(t), pg.NewDatabase(t)
	if dsn1 == dsn2 {
		t.Fatalf("NewDatabase returned %s twice", dsn1)
	}
	dbs := pg.Databases(t)
	for _, want := range []string{"probity_test_1", "probity_test_2"} {
		if !slices.Contains(dbs, want) {
			t.Errorf("databases %v lack %s", dbs, want)
		}
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn1)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn1, err)
	}
	defer c.Close(ctx)
	var db, usr string
	if err := c.QueryRow(ctx, `SELECT current_database(), current_user`).Scan(&db, &usr); err != nil {
		t.Fatal(err)
	}
	if db != "probity_test_1" || usr != pgUser {
		t.Errorf("connected to %s as %s, want probity_test_1 as %s", db, usr, pgUser)
	}
}
