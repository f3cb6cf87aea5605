-- 0002: leases for work any replica may take. A replica claims an unsent reply or a
-- due deadline until `claimed_until` (epoch seconds, database clock); if it dies, the
-- lease runs out and another replica claims the row again. Writing the conversation
-- or round (the timeout handled) clears its lease.

ALTER TABLE outbox ADD COLUMN claimed_until DOUBLE PRECISION;
ALTER TABLE conversations ADD COLUMN claimed_until DOUBLE PRECISION;
ALTER TABLE rounds ADD COLUMN claimed_until DOUBLE PRECISION;
