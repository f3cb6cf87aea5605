-- 0005: a turn's place in its conversation is its rank by id, as in PostgreSQL. The
-- `seq` column was filled with MAX(seq) + 1, a number the writer had to compute; ids
-- come from the database (AUTOINCREMENT) and already give the order of the commits.

DROP INDEX turns_conversation_seq;
ALTER TABLE turns DROP COLUMN seq;
CREATE INDEX turns_conversation ON turns (conversation_key, id);
