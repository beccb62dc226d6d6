# lots: the materials page, their lots and a lot's recall trace (SPEC §8).

lots-title = Materials and material lots
lots-lots = Material lots
lots-lot = Material lot
lots-lot-title = Material lot
lots-material = Material
lots-supplier = Supplier
lots-supplier-lot = Supplier's lot
lots-received = Received
lots-received-on = Received on
lots-by = by
lots-quantity = Quantity received
lots-quantity-received = Quantity received
lots-quantity-hint = In the material's unit; a decimal comma is accepted (2,5).
lots-remaining = Quantity left
lots-of = of
lots-expiry-hint = The last day the lot may be used.
lots-none = No material lots to show.
lots-receive-title = Receipt of a lot
lots-receive = Record the receipt (it stays in quarantine)
lots-back = Back to materials and lots

# Expiry, said in words.
lots-expired-on = expired: its last day of use was { $date }
lots-expires-today = expires today
lots-expires-tomorrow = expires tomorrow
lots-expires-in-days = expires in { $days } days

# The catalogue.
lots-catalogue = The network's catalogue of materials
lots-kind = Kind
lots-kind-starting-material = starting material
lots-kind-reagent = reagent
lots-kind-medium = culture medium
lots-kind-vector = vector
lots-kind-scaffold = scaffold
lots-kind-consumable = consumable
lots-no-materials = The catalogue has no materials yet.
lots-edit = Edit
lots-save = Save the changes
lots-unit-hint = The unit cannot change once a lot of the material has been received.
lots-new-material = New material
lots-code-hint = Capitals, digits and hyphens (MED-ALFA).
lots-unit-example = The unit its lots are counted in: mL, vial, µg…
lots-add-material = Add to the catalogue
lots-code-taken = a material with that code exists already
lots-done-material-created = Material added to the catalogue:
lots-done-material-changed = Material changed:

# Receipt and disposition of a lot.
lots-done-received = Material lot received: it stays in quarantine until QA releases it.
lots-done-released = Material lot released, signed.
lots-done-rejected = Material lot rejected, signed.
lots-no-signature = No signatures: the lot has been neither released nor rejected.
lots-disposition = Disposition by QA
lots-release = Release the lot
lots-sign-release = Sign and release the lot
lots-reject = Reject the lot
lots-sign-reject = Sign and reject the lot
lots-not-in-quarantine = The lot is no longer in quarantine: it is { $status }.
lots-expired-reject-only = The lot has expired (its last day of use was { $date }): it may be rejected, not released.

# The recall trace.
lots-trace = Traceability for a recall
lots-trace-hint = Every batch whose step record used this material lot, and every patient who received one of them.
lots-trace-batches = Batches made with this material
lots-trace-no-batches = No batch has used this material lot.
lots-quantity-used = Quantity used
lots-trace-patients = Patients who received those batches
lots-trace-no-patients = No patient has received a batch made with this material.
