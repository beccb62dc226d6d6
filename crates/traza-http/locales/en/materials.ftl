# materials: materials, material lots, equipment and rooms (SPEC §8).

# Refusals with a code of their own.
error-material-not-usable = A material lot cannot be used at this step
error-equipment-not-usable = A piece of equipment cannot be used at this step
error-room-not-suitable = The room is not suitable for this step

# Signatures of a lot's disposition.
meaning-material-released = I release this material lot for use in manufacture
meaning-material-rejected = I reject this material lot

# A lot's statuses.
lot-status-quarantine = in quarantine
lot-status-released = released
lot-status-rejected = rejected

# Why a value is refused.
problem-unknown-material = unknown material
problem-lot-not-of-lab = the lot is not of this laboratory
problem-lot-not-released = the lot is not released: it is { $status }
problem-lot-expired = the lot expired on { $date }
problem-lot-other-material = the lot is of { $material }, which this step does not use
problem-lot-not-enough = only { $available } of the lot is left
problem-equipment-not-of-lab = the equipment is not of this laboratory
problem-equipment-out-of-service = the equipment is out of service
problem-calibration-past-due = the equipment's calibration was due on { $date }
problem-room-not-of-lab = the room is not of this laboratory
problem-room-grade-too-low = the room is grade { $grade }; the step needs grade { $required } or cleaner
