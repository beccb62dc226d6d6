# mbr: the master batch record editor (/registros-maestros), for quality assurance.

mbr-title-list = Master batch records
mbr-master-record = Master record
mbr-list-hint = Each version says how a product is made at a laboratory, step by step. The laboratory's QA writes a draft and another QA person approves it with their signature; it takes effect on the date given.
mbr-new = New master record
mbr-none = No master records to show.
mbr-version = version
mbr-steps = Steps
mbr-author = Author
mbr-approved-by = Approved by
mbr-not-approved = not approved
mbr-effective-from = Effective from
mbr-approval-hash = Approval fingerprint (SHA-256)

# Statuses of a version.
mbr-status-draft = draft
mbr-status-approved = approved
mbr-status-effective = effective
mbr-status-superseded = superseded

# A new draft.
mbr-back-to-list = Back to the master records
mbr-lab-and-product = Laboratory and product
mbr-lab-and-product-hint = The products assigned to your laboratories. The draft will be the next version of that product's master record at that laboratory.
mbr-start-from = Start from a version
mbr-start-empty = No: start with a first step
mbr-start-from-hint = Its steps are copied into the new draft, to be edited; the usual way to write the next version.
mbr-first-step = First step
mbr-first-step-hint = Only when not starting from a version: a master record has at least one step. The others are added afterwards.
mbr-create-draft = Create the draft

# A version.
mbr-back-to-version = Back to the version
mbr-compare-with-previous = Compare with the previous version
mbr-draft-hint-reader = Draft: the laboratory's QA is writing it; it guides no batch until it is approved and takes effect.
mbr-no-steps = No steps.
mbr-step-word = step
mbr-room-grade = Room grade
mbr-grade = grade
mbr-no-grade = no grade required
mbr-verification = Verification by a second person
mbr-verification-required = Needs a second person's verification
mbr-equipment = Equipment
mbr-equipment-class = Equipment class
mbr-equipment-hint = One class per box, as in the laboratory's equipment inventory (incubator, biosafety_cabinet). An empty box does not count.
mbr-parameters = Parameters
mbr-parameter = Parameter
mbr-parameter-name = Name
mbr-min = Minimum
mbr-max = Maximum
mbr-expected = Expected value
mbr-expected-word = Expected value (a word, when not a number)
mbr-critical = Critical
mbr-materials = Materials
mbr-material = Material
mbr-material-code = Material code
mbr-quantity = Quantity
mbr-yes = yes
mbr-no = no
mbr-edit-step = Edit the step
mbr-move-up = Move up
mbr-move-down = Move down
mbr-remove-step = Remove
mbr-add-step = Add a step
mbr-approve = Approve this version
mbr-effective-from-hint = From this day (Madrid time) it guides new batches; today or later. The version in effect until then becomes superseded.
mbr-approve-sign = Sign and approve
mbr-approval-by-another = Another QA person of the laboratory, not the draft's author, must approve it.
mbr-new-version-from-this = New version from this one
mbr-new-version-from-this-hint = Creates a draft with a copy of these steps, as the next version of the same product at the same laboratory.

# The form of a step.
mbr-code = Code
mbr-title = Title
mbr-instructions = Instructions
mbr-rows-hint = To add one, fill in an empty row; to remove one, empty its row.
mbr-save-step = Save the step

# What was done.
mbr-done-created = Draft created.
mbr-done-step-saved = Step saved.
mbr-done-step-removed = Step removed.
mbr-done-step-moved = Step moved.
mbr-done-approved = Version approved with your signature.

# Refusals.
mbr-refused-content = The master record was not saved: check these values
mbr-refused-four-eyes = The author of a draft may not approve it: another QA person of the laboratory must.
mbr-refused-locked = This version is approved and never changes: to modify it, create a new version from it.
mbr-refused-locked-title = Approved version
mbr-changed-meanwhile = The master record has changed since you opened this form.
mbr-changed-meanwhile-hint = Nothing was saved. Check the version as it is now; if you send the form again, what you typed will be saved.
mbr-problem-min-above-max = the minimum may not be above the maximum ({ $max })
mbr-problem-no-steps = a master record needs at least one step

# Comparing versions.
mbr-compare = Compare
mbr-compare-title = Comparison of versions
mbr-compare-old = Earlier version
mbr-compare-new = Later version
mbr-compare-choose = Choose two versions to compare.
mbr-compare-other-record = Only versions of the same product at the same laboratory are compared.
mbr-compare-no-changes = The steps of both versions are the same.
mbr-compare-steps-added = Steps added
mbr-compare-steps-removed = Steps removed
mbr-compare-steps-changed = Steps changed
mbr-compare-added = added
mbr-compare-removed = removed
mbr-compare-order = Order among the steps of both
