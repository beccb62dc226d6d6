# users: the administration of users (/usuarios), for administrators only.

users-title = Users
users-accounts = Accounts
users-full-name = Full name
users-role = Role
users-you = (you)
users-active = active
users-inactive = deactivated
users-locked-until = locked until
users-deactivate = Deactivate
users-reactivate = Reactivate
users-unlock = Unlock
users-reset-password = Reset the password
users-reset-hint = The person logs in with this password and may then change it under "My password". Resetting it ends every open session of theirs.
users-set-password = Save the new password
users-new-user = New user
users-username-hint = 2 to 32 characters: lower-case letters a-z, digits, ".", "_" or "-", starting with a letter or a digit. It cannot be changed later.
users-labs-hint = Only for laboratory staff and quality assurance (at least one): the laboratories whose batches they see. The other roles see the whole network and have no laboratory.
users-initial-password = Initial password
users-create = Create the user
users-done-created = User created:
users-done-deactivated = Account deactivated; their sessions were ended:
users-done-reactivated = Account reactivated:
users-done-password = Password reset; their sessions were ended:
users-done-unlocked = Account unlocked:
users-username-taken = a user with that name exists already
