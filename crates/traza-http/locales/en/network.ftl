# network: the network (/red), assignments, each product's page and the public registry.
# "%n" is a number and "%d", "%u" are dates: the page puts them in when it shows the text.

# Advanced therapy classes (Regulation (EC) 1394/2007, Art. 2).
net-class-somatic-cell-therapy = Somatic cell therapy
net-class-tissue-engineered = Tissue engineering
net-class-gene-therapy = Gene therapy
net-class-combined = Combined advanced therapy
net-atmp-class = Advanced therapy class
net-access-routes = Access routes
net-open-in-the-eu-register = See the trial in the EU's public register of clinical trials

# Laboratories.
net-lab-active = Active
net-lab-suspended = Suspended
net-lab-training-only = Training only
net-gmp-certificate = GMP certificate
net-cert-none = no expiry date recorded
net-cert-expired-days-ago = expired %n days ago (%d)
net-cert-expired-yesterday = expired yesterday (%d)
net-cert-expires-today = expires today (%d)
net-cert-expires-tomorrow = expires tomorrow (%d)
net-cert-expires-in-days = expires in %n days (%d)
net-cert-valid-until = valid until %d

# Assignments.
net-assignment = Assignment
net-number-short = no.
net-in-force = In force
net-upcoming = Upcoming
net-ended = Ended
net-no-end = no end date
net-current-assignments = Current and upcoming assignments
net-ended-assignments = Ended assignments
net-ended-hint = Assignments whose last day has passed. They are never deleted: batches made under them still refer to them.
net-authorisation-reference-hint = For a clinical trial, its EudraCT number (YYYY-NNNNNN-NN) or EU CT number (YYYY-5NNNNN-NN-NN).
net-refusal-certificate = the laboratory's GMP certificate expires on %u, before the assignment's first day (%d)
net-back-to-the-network = Back to the network
net-assigned-by = Assigned by
net-end-the-assignment = End the assignment
net-end-hint = The last day on which the assignment authorises manufacture; it can be brought forward, not put back. The assignment is not deleted: it moves to the list of ended ones.
net-end-refused = The assignment cannot end on that day
net-end-before-start = The assignment starts on %d: it cannot end before that day. Choose %d or a later day.
net-end-already-ends = The assignment already ends on %d: its end can only be brought forward. Choose an earlier day.
net-end-changed = The assignment changed in the meantime: check its dates and try again.
net-assignment-history = History of the assignment
action-assignment-create = Assignment made
action-assignment-end = Assignment ended
action-product-update = Product changed

# Products.
net-product-page-hint = Each product has its own page with its whole specification, its assignments and the words the public registry finds it by.
net-product-active = Active
net-product-withdrawn = Withdrawn
net-shelf-life = Shelf life
net-one-day = 1 day
net-n-days = %n days
net-test-kind = Kind
net-kind-numeric = Numeric
net-kind-categorical = Categorical
net-acceptance = Acceptance criterion
net-recorded-only = recorded, no limits
net-possible-values = Possible values
net-a-number = a number
net-any-word = any word
net-required-for-release = Required for release
net-no = no
net-indications = Indications (conditions treated)
net-keywords = Keywords
net-registry-words = Public registry words
net-registry-words-hint = One word or phrase a line, as patients write them (e.g. "lymphoma", "stem cells"). The search ignores case, accents and hyphens.
net-save-the-registry-words = Save the words
net-registry-words-saved = Registry words saved. The public registry finds them within a few seconds.
