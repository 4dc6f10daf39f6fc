-- The ledger's tables. Every business row carries tenant_id and mode; every query filters by both.
-- Statements are separated by a line holding only `-- ;;` (the migration runs them one by one).

-- The program as last projected from tenant.program.updated (one program per tenant and mode).
CREATE TABLE programs (
    tenant_id uuid NOT NULL,
    mode text NOT NULL CHECK (mode IN ('live', 'test')),
    program_id uuid NOT NULL,
    version integer NOT NULL,
    type text NOT NULL CHECK (type IN ('points', 'stamps')),
    currency text NOT NULL,
    rules jsonb NOT NULL,          -- the full tenant.program.updated payload
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, mode)
);
-- ;;
CREATE TABLE members (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    mode text NOT NULL CHECK (mode IN ('live', 'test')),
    program_id uuid,
    name text,
    email text,
    phone text,
    external_id text,
    locale text,
    consent_email boolean NOT NULL DEFAULT false,
    consent_sms boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'erased')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    erased_at timestamptz
);
-- ;;
CREATE UNIQUE INDEX members_external_id ON members (tenant_id, mode, external_id) WHERE external_id IS NOT NULL;
-- ;;
CREATE INDEX members_email ON members (tenant_id, mode, lower(email)) WHERE email IS NOT NULL;
-- ;;
CREATE INDEX members_phone ON members (tenant_id, mode, phone) WHERE phone IS NOT NULL;
-- ;;
CREATE INDEX members_list ON members (tenant_id, mode, id);
-- ;;
-- The QR content. Reissue revokes the old token in the same transaction, so it stops at once.
CREATE TABLE cards (
    token text PRIMARY KEY,
    tenant_id uuid NOT NULL,
    mode text NOT NULL,
    member_id uuid NOT NULL REFERENCES members (id),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
-- ;;
CREATE UNIQUE INDEX cards_one_active ON cards (member_id) WHERE status = 'active';
-- ;;
-- Member accounts (id = member id) and per tenant+mode+program system accounts.
CREATE TABLE accounts (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    mode text NOT NULL,
    program_id uuid,
    kind text NOT NULL CHECK (kind IN ('member', 'issuance', 'redemption', 'expiry', 'adjustment')),
    member_id uuid REFERENCES members (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'member') = (member_id IS NOT NULL))
);
-- ;;
CREATE UNIQUE INDEX accounts_system ON accounts (tenant_id, mode, kind) WHERE kind <> 'member';
-- ;;
-- The balance cache of member accounts: the one row a write locks. System accounts have no cache
-- on purpose: every earn of a tenant would queue on its issuance row; their balance is a SUM.
CREATE TABLE balances (
    account_id uuid PRIMARY KEY REFERENCES accounts (id),
    tenant_id uuid NOT NULL,
    mode text NOT NULL,
    balance bigint NOT NULL DEFAULT 0,
    lifetime bigint NOT NULL DEFAULT 0,
    reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    sequence bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- ;;
CREATE TABLE transactions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    mode text NOT NULL,
    member_id uuid NOT NULL REFERENCES members (id),
    kind text NOT NULL CHECK (kind IN ('earn', 'redeem', 'reverse', 'adjust', 'expire')),
    points bigint NOT NULL,          -- signed change to the member's balance
    balance_after bigint NOT NULL,
    idempotency_key text NOT NULL,
    request jsonb NOT NULL,          -- the fingerprint a replay is compared with
    reverses uuid REFERENCES transactions (id),
    program_version integer,
    location_id uuid,
    reference text,
    reward_id uuid,
    amount text,
    currency text,
    reason text,
    staff_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, mode, idempotency_key)
);
-- ;;
-- A transaction is reversed at most once.
CREATE UNIQUE INDEX transactions_reversed_once ON transactions (reverses) WHERE reverses IS NOT NULL;
-- ;;
CREATE INDEX transactions_member ON transactions (tenant_id, mode, member_id, id DESC);
-- ;;
CREATE INDEX transactions_day ON transactions (tenant_id, mode, created_at);
-- ;;
CREATE TABLE postings (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid NOT NULL REFERENCES transactions (id),
    tenant_id uuid NOT NULL,
    mode text NOT NULL,
    account_id uuid NOT NULL REFERENCES accounts (id),
    amount bigint NOT NULL CHECK (amount <> 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- ;;
CREATE INDEX postings_transaction ON postings (transaction_id);
-- ;;
CREATE INDEX postings_account ON postings (account_id);
-- ;;
CREATE INDEX postings_ledger ON postings (tenant_id, mode);
-- ;;
-- Points earned together, stamped with their expiry at earn time; spends draw oldest-expiring first.
CREATE TABLE earn_lots (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    mode text NOT NULL,
    member_id uuid NOT NULL REFERENCES members (id),
    transaction_id uuid NOT NULL REFERENCES transactions (id),
    points bigint NOT NULL CHECK (points > 0),
    remaining bigint NOT NULL CHECK (remaining >= 0),
    expires_at timestamptz,
    expired_at timestamptz,
    notified_at timestamptz
);
-- ;;
CREATE INDEX earn_lots_member ON earn_lots (member_id, expires_at) WHERE remaining > 0;
-- ;;
CREATE INDEX earn_lots_due ON earn_lots (expires_at) WHERE remaining > 0 AND expired_at IS NULL;
-- ;;
-- Which lots a spend drew from, so reversing the spend puts the points back where they were.
CREATE TABLE lot_draws (
    transaction_id uuid NOT NULL REFERENCES transactions (id),
    lot_id uuid NOT NULL REFERENCES earn_lots (id),
    points bigint NOT NULL CHECK (points > 0),
    PRIMARY KEY (transaction_id, lot_id)
);
-- ;;
CREATE TABLE reservations (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    mode text NOT NULL,
    member_id uuid NOT NULL REFERENCES members (id),
    reward_id uuid NOT NULL,
    reward_name text NOT NULL,
    points bigint NOT NULL CHECK (points > 0),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'redeemed', 'voided')),
    idempotency_key text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    transaction_id uuid REFERENCES transactions (id),
    UNIQUE (tenant_id, mode, idempotency_key)
);
-- ;;
CREATE INDEX reservations_due ON reservations (expires_at) WHERE status = 'pending';
-- ;;
-- Append-only: corrections are reversing transactions, never edits.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are append-only (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
-- ;;
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
-- ;;
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON transactions
FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
-- ;;
-- Balanced per transaction, checked at commit (deferred), whoever writes the postings.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE total bigint;
BEGIN
  SELECT sum(amount) INTO total FROM postings WHERE transaction_id = NEW.transaction_id;
  IF total <> 0 THEN
    RAISE EXCEPTION 'transaction % is unbalanced by %', NEW.transaction_id, total;
  END IF;
  RETURN NULL;
END $$;
-- ;;
CREATE CONSTRAINT TRIGGER postings_balanced AFTER INSERT ON postings
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
