-- Taken first in every append and held until commit: writers are serialized
-- in commit order, which keeps positions commit-ordered and gap-free.
SELECT last_position FROM cairn_log_head FOR UPDATE
