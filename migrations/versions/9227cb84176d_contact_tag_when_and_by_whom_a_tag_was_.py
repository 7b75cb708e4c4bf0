"""contact_tag: when and by whom a tag was added; consent index for the list filters

Revision ID: 9227cb84176d
Revises: 97eea8810267
Create Date: 2026-11-23 15:09:06.223937

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9227cb84176d'
down_revision = '97eea8810267'
branch_labels = None
depends_on = None


def upgrade():
    # Added without a default first, so tags already on contacts keep an unknown (NULL) date
    # rather than all claiming the moment of the upgrade; new links then default to now.
    with op.batch_alter_table('contact_tag', schema=None) as batch_op:
        batch_op.add_column(sa.Column('added_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('added_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_contact_tag_added_by_id_user_account'), 'user_account', ['added_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('contact_tag', schema=None) as batch_op:
        batch_op.alter_column('added_at', existing_type=sa.DateTime(timezone=True), existing_nullable=True,
                              server_default=sa.text('(CURRENT_TIMESTAMP)'))
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index('ix_consent_channel_status_contact', ['channel', 'status', 'contact_id'], unique=False)


def downgrade():
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_channel_status_contact')

    with op.batch_alter_table('contact_tag', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contact_tag_added_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('added_by_id')
        batch_op.drop_column('added_at')
