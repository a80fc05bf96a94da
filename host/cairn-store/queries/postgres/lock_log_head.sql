-- Taken first in every append and held until commit: writers are serialized
-- in commit order, which keeps positions commit-ordered and gap-free. Sent
-- with BEGIN as one round trip (no parameters, so the simple protocol).
BEGIN; SELECT 1 FROM cairn_log_head FOR UPDATE
