-- ledger_post: apply one ledger transaction that the Python domain has already decided on.
-- One call = idempotency check, member balance lock, transaction row, two balanced postings, lot
-- bookkeeping and the balance cache update; the caller adds its outbox rows in the same transaction.
--
-- Outcomes: 'posted'; 'replay' (the key exists: the original is returned with its request
-- fingerprint, nothing is written); 'insufficient' (nothing written, `available` says how much
-- there is); 'no_member' (no such member account in this tenant and mode).
--
-- Concurrency: the member's balances row is the lock (SELECT … FOR UPDATE), so two spends of one
-- member serialise and the second sees the first's result; a concurrent request with the same key
-- either finds the committed original once it holds the lock or waits on the unique index and then
-- finds it. Lock order is always: balances row, then the transaction's unique key.
CREATE FUNCTION ledger_post(
    p_tenant uuid, p_mode text, p_txn uuid, p_member uuid, p_kind text, p_points bigint,
    p_system text, p_key text, p_request jsonb,
    p_lots text, p_lot_id uuid, p_lot_expires timestamptz,
    p_allow_negative boolean, p_lifetime bigint, p_release bigint,
    p_reverses uuid, p_program_version integer, p_location uuid, p_reference text, p_reward uuid,
    p_amount text, p_currency text, p_reason text, p_staff uuid
) RETURNS TABLE (
    outcome text, transaction_id uuid, balance bigint, lifetime bigint, reserved bigint,
    sequence bigint, available bigint, created_at timestamptz, request jsonb
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_bal balances%ROWTYPE;
  v_sys uuid;
  v_new bigint;
  v_now timestamptz := clock_timestamp();
  v_left bigint;
  v_take bigint;
  v_lot record;
  v_hit record;
BEGIN
  -- A replay needs no lock.
  SELECT t.id, t.request, t.created_at INTO v_hit FROM transactions t
   WHERE t.tenant_id = p_tenant AND t.mode = p_mode AND t.idempotency_key = p_key;
  IF FOUND THEN
    RETURN QUERY SELECT 'replay', v_hit.id, coalesce(b.balance, 0), coalesce(b.lifetime, 0),
        coalesce(b.reserved, 0), coalesce(b.sequence, 0), coalesce(b.balance - b.reserved, 0),
        v_hit.created_at, v_hit.request
      FROM (SELECT 1) one
      LEFT JOIN balances b ON b.account_id = p_member AND b.tenant_id = p_tenant AND b.mode = p_mode;
    RETURN;
  END IF;

  SELECT * INTO v_bal FROM balances b
   WHERE b.account_id = p_member AND b.tenant_id = p_tenant AND b.mode = p_mode FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'no_member', NULL::uuid, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
        0::bigint, NULL::timestamptz, NULL::jsonb;
    RETURN;
  END IF;

  -- While we waited for the lock, a request with the same key may have committed.
  SELECT t.id, t.request, t.created_at INTO v_hit FROM transactions t
   WHERE t.tenant_id = p_tenant AND t.mode = p_mode AND t.idempotency_key = p_key;
  IF FOUND THEN
    RETURN QUERY SELECT 'replay', v_hit.id, v_bal.balance, v_bal.lifetime, v_bal.reserved,
        v_bal.sequence, v_bal.balance - v_bal.reserved, v_hit.created_at, v_hit.request;
    RETURN;
  END IF;

  v_new := v_bal.balance + p_points;
  IF NOT p_allow_negative AND p_points < 0 AND v_new - (v_bal.reserved - p_release) < 0 THEN
    RETURN QUERY SELECT 'insufficient', NULL::uuid, v_bal.balance, v_bal.lifetime, v_bal.reserved,
        v_bal.sequence, v_bal.balance - v_bal.reserved, NULL::timestamptz, NULL::jsonb;
    RETURN;
  END IF;

  INSERT INTO transactions AS t (id, tenant_id, mode, member_id, kind, points, balance_after,
      idempotency_key, request, reverses, program_version, location_id, reference, reward_id,
      amount, currency, reason, staff_id, created_at)
  VALUES (p_txn, p_tenant, p_mode, p_member, p_kind, p_points, v_new, p_key, p_request, p_reverses,
      p_program_version, p_location, p_reference, p_reward, p_amount, p_currency, p_reason, p_staff,
      v_now)
  ON CONFLICT (tenant_id, mode, idempotency_key) DO NOTHING;
  IF NOT FOUND THEN
    -- Same key, another member, committed while we held this member's lock.
    SELECT t.id, t.request, t.created_at INTO v_hit FROM transactions t
     WHERE t.tenant_id = p_tenant AND t.mode = p_mode AND t.idempotency_key = p_key;
    RETURN QUERY SELECT 'replay', v_hit.id, v_bal.balance, v_bal.lifetime, v_bal.reserved,
        v_bal.sequence, v_bal.balance - v_bal.reserved, v_hit.created_at, v_hit.request;
    RETURN;
  END IF;

  SELECT a.id INTO v_sys FROM accounts a
   WHERE a.tenant_id = p_tenant AND a.mode = p_mode AND a.kind = p_system;
  IF NOT FOUND THEN
    INSERT INTO accounts (id, tenant_id, mode, kind) VALUES (gen_random_uuid(), p_tenant, p_mode, p_system)
    ON CONFLICT DO NOTHING;
    SELECT a.id INTO v_sys FROM accounts a
     WHERE a.tenant_id = p_tenant AND a.mode = p_mode AND a.kind = p_system;
  END IF;

  IF p_points <> 0 THEN
    INSERT INTO postings (transaction_id, tenant_id, mode, account_id, amount, created_at)
    VALUES (p_txn, p_tenant, p_mode, p_member, p_points, v_now),
           (p_txn, p_tenant, p_mode, v_sys, -p_points, v_now);
  END IF;

  IF p_lots = 'new' AND p_points > 0 THEN
    INSERT INTO earn_lots (id, tenant_id, mode, member_id, transaction_id, points, remaining, expires_at)
    VALUES (gen_random_uuid(), p_tenant, p_mode, p_member, p_txn, p_points, p_points, p_lot_expires);
  ELSIF p_lots = 'consume' AND p_points < 0 THEN
    -- Oldest-expiring first; never-expiring points last.
    v_left := -p_points;
    FOR v_lot IN SELECT l.id, l.remaining FROM earn_lots l
        WHERE l.member_id = p_member AND l.remaining > 0
        ORDER BY l.expires_at NULLS LAST, l.transaction_id
    LOOP
      EXIT WHEN v_left = 0;
      v_take := least(v_lot.remaining, v_left);
      UPDATE earn_lots SET remaining = remaining - v_take WHERE id = v_lot.id;
      INSERT INTO lot_draws (transaction_id, lot_id, points) VALUES (p_txn, v_lot.id, v_take);
      v_left := v_left - v_take;
    END LOOP;
  ELSIF p_lots = 'void_source' THEN
    UPDATE earn_lots l SET remaining = 0 WHERE l.transaction_id = p_reverses;
  ELSIF p_lots = 'restore_source' THEN
    -- Points go back with the expiry they had; a fresh lot each, so an expired lot stays settled
    -- and the expiry run posts the restored points on their own.
    INSERT INTO earn_lots (id, tenant_id, mode, member_id, transaction_id, points, remaining, expires_at)
    SELECT gen_random_uuid(), p_tenant, p_mode, p_member, p_txn, d.points, d.points, l.expires_at
      FROM lot_draws d JOIN earn_lots l ON l.id = d.lot_id WHERE d.transaction_id = p_reverses;
  ELSIF p_lots = 'expire' THEN
    UPDATE earn_lots SET remaining = 0, expired_at = v_now WHERE id = p_lot_id;
  END IF;

  UPDATE balances b SET balance = v_new, lifetime = b.lifetime + p_lifetime,
      reserved = b.reserved - p_release, sequence = b.sequence + 1, updated_at = v_now
   WHERE b.account_id = p_member
  RETURNING b.* INTO v_bal;

  RETURN QUERY SELECT 'posted', p_txn, v_bal.balance, v_bal.lifetime, v_bal.reserved, v_bal.sequence,
      v_bal.balance - v_bal.reserved, v_now, p_request;
END $$;
