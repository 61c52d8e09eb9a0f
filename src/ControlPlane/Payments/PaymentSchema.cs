using StreamVerse.ControlPlane.Data;

namespace StreamVerse.ControlPlane.Payments;

/// <summary>
/// The schema of payments, memberships and the ledger (one self-contained migration).
/// <list type="bullet">
/// <item><c>users.premium</c> stays the flag every reader uses (tokens, lists, comments); it is now derived:
/// <c>premium_granted</c> (the admin's grant) OR an entitling Premium subscription (<see cref="Entitlements"/>).</item>
/// <item><c>payment_events</c> is both the durable queue of verified webhook events and their idempotency key: the
/// processor's event id is unique, and an event's effects commit in the same transaction that marks it done.</item>
/// <item>The ledger is append-only and balanced in the database itself: lines are written first (their foreign key is
/// deferred), then the entry, whose insert trigger refuses it unless its lines sum to zero per currency; a line for an
/// entry already written, and any UPDATE or DELETE, is refused.</item>
/// </list>
/// </summary>
internal static class PaymentSchema
{
    public static string Sql(Dialect d) => $"""
        ALTER TABLE users ADD COLUMN premium_granted BOOLEAN NOT NULL DEFAULT FALSE;
        UPDATE users SET premium_granted = premium;
        CREATE TABLE billing_customers (
            user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            processor VARCHAR(16) NOT NULL,
            customer_id VARCHAR(255) NOT NULL,
            PRIMARY KEY (user_id, processor),
            UNIQUE (processor, customer_id)
        );
        CREATE TABLE billing_prices (
            processor VARCHAR(16) NOT NULL,
            price_key VARCHAR(200) NOT NULL,
            price_id VARCHAR(255) NOT NULL,
            PRIMARY KEY (processor, price_key)
        );
        CREATE TABLE payment_events (
            seq {d.IdentityPrimaryKey},
            processor VARCHAR(16) NOT NULL,
            event_id VARCHAR(255) NOT NULL,
            type VARCHAR(100) NOT NULL,
            created_at {d.Timestamp} NOT NULL,
            payload TEXT NOT NULL,
            received_at {d.Timestamp} NOT NULL,
            run_after {d.Timestamp} NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner VARCHAR(64) NULL,
            lease_expires_at {d.Timestamp} NULL,
            done_at {d.Timestamp} NULL,
            error VARCHAR(2000) NULL,
            UNIQUE (processor, event_id)
        );
        CREATE INDEX ix_payment_events_due ON payment_events (done_at, run_after, seq);
        CREATE TABLE billing_subscriptions (
            processor VARCHAR(16) NOT NULL,
            external_id VARCHAR(255) NOT NULL,
            user_id VARCHAR(32) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            product VARCHAR(16) NOT NULL,
            channel_id VARCHAR(32) NULL,
            tier_id VARCHAR(32) NULL,
            status VARCHAR(32) NOT NULL,
            current_period_end {d.Timestamp} NULL,
            cancel_at_period_end BOOLEAN NOT NULL DEFAULT FALSE,
            grace_until {d.Timestamp} NULL,
            disputed BOOLEAN NOT NULL DEFAULT FALSE,
            state_at BIGINT NOT NULL,
            updated_at {d.Timestamp} NOT NULL,
            PRIMARY KEY (processor, external_id)
        );
        CREATE INDEX ix_billing_subscriptions_user ON billing_subscriptions (user_id, product);
        CREATE TABLE payments (
            id VARCHAR(32) PRIMARY KEY,
            processor VARCHAR(16) NOT NULL,
            external_id VARCHAR(255) NOT NULL,
            payment_intent VARCHAR(255) NULL,
            user_id VARCHAR(32) NULL,
            product VARCHAR(16) NOT NULL,
            channel_id VARCHAR(32) NULL,
            subscription_id VARCHAR(255) NULL,
            currency VARCHAR(3) NOT NULL,
            gross BIGINT NOT NULL,
            fee BIGINT NOT NULL,
            creator_share BIGINT NOT NULL,
            refunded BIGINT NOT NULL DEFAULT 0,
            disputed BIGINT NOT NULL DEFAULT 0,
            paid_at {d.Timestamp} NOT NULL,
            UNIQUE (processor, external_id)
        );
        CREATE INDEX ix_payments_intent ON payments (processor, payment_intent);
        CREATE TABLE membership_tiers (
            id VARCHAR(32) PRIMARY KEY,
            channel_id VARCHAR(32) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
            name VARCHAR(100) NOT NULL,
            amount BIGINT NOT NULL CHECK (amount > 0),
            currency VARCHAR(3) NOT NULL,
            perks VARCHAR(2000) NOT NULL DEFAULT '',
            created_at {d.Timestamp} NOT NULL
        );
        CREATE INDEX ix_membership_tiers_channel ON membership_tiers (channel_id, id);
        CREATE TABLE payout_accounts (
            channel_id VARCHAR(32) PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
            processor VARCHAR(16) NOT NULL,
            account_id VARCHAR(255) NOT NULL
        );
        CREATE TABLE ledger_entries (
            id VARCHAR(32) PRIMARY KEY,
            source_id VARCHAR(300) NOT NULL UNIQUE,
            kind VARCHAR(32) NOT NULL,
            posted_at {d.Timestamp} NOT NULL,
            memo VARCHAR(500) NOT NULL DEFAULT ''
        );
        CREATE TABLE ledger_lines (
            id {d.IdentityPrimaryKey},
            entry_id VARCHAR(32) NOT NULL REFERENCES ledger_entries(id) DEFERRABLE INITIALLY DEFERRED,
            account VARCHAR(100) NOT NULL,
            channel_id VARCHAR(32) NULL,
            currency VARCHAR(3) NOT NULL,
            amount BIGINT NOT NULL,
            posted_at {d.Timestamp} NOT NULL,
            available_at {d.Timestamp} NULL
        );
        CREATE INDEX ix_ledger_lines_entry ON ledger_lines (entry_id);
        CREATE INDEX ix_ledger_lines_account ON ledger_lines (account, posted_at);
        CREATE INDEX ix_ledger_lines_channel ON ledger_lines (channel_id, posted_at);
        {(d == Dialect.Postgres ? PostgresLedgerRules : SqliteLedgerRules)}
        """;

    private const string SqliteLedgerRules = """
        CREATE TRIGGER ledger_entries_balanced BEFORE INSERT ON ledger_entries
        WHEN NOT EXISTS (SELECT 1 FROM ledger_lines WHERE entry_id = NEW.id)
          OR EXISTS (SELECT 1 FROM ledger_lines WHERE entry_id = NEW.id GROUP BY currency HAVING SUM(amount) <> 0)
        BEGIN SELECT RAISE(ABORT, 'ledger entry does not balance'); END;
        CREATE TRIGGER ledger_lines_sealed BEFORE INSERT ON ledger_lines
        WHEN EXISTS (SELECT 1 FROM ledger_entries WHERE id = NEW.entry_id)
        BEGIN SELECT RAISE(ABORT, 'ledger entry already posted'); END;
        CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TRIGGER ledger_lines_no_update BEFORE UPDATE ON ledger_lines BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TRIGGER ledger_lines_no_delete BEFORE DELETE ON ledger_lines BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        """;

    private const string PostgresLedgerRules = """
        CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM ledger_lines WHERE entry_id = NEW.id)
               OR EXISTS (SELECT 1 FROM ledger_lines WHERE entry_id = NEW.id GROUP BY currency HAVING SUM(amount) <> 0) THEN
                RAISE EXCEPTION 'ledger entry does not balance';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER ledger_entries_balanced BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();
        CREATE FUNCTION ledger_line_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM ledger_entries WHERE id = NEW.entry_id) THEN
                RAISE EXCEPTION 'ledger entry already posted';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER ledger_lines_sealed BEFORE INSERT ON ledger_lines FOR EACH ROW EXECUTE FUNCTION ledger_line_sealed();
        CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the ledger is append-only'; END $$;
        CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
        CREATE TRIGGER ledger_lines_no_change BEFORE UPDATE OR DELETE ON ledger_lines FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
        """;
}
