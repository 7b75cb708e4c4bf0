"""campaign lookup: boundary generations, constituencies, postcode → constituency, MPs

Revision ID: c5e1a7b2d940
Revises: 6d574553adda
Create Date: 2026-11-23 17:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e1a7b2d940'
down_revision = '6d574553adda'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('boundary_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=160), nullable=False),
    sa.Column('status', sa.Enum('loading', 'ready', 'replaced', name='generationstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('source_filename', sa.String(length=255), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('postcodes', sa.Integer(), nullable=False),
    sa.Column('skipped_terminated', sa.Integer(), nullable=False),
    sa.Column('skipped_no_constituency', sa.Integer(), nullable=False),
    sa.Column('bad_rows', sa.Integer(), nullable=False),
    sa.Column('constituencies', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boundary_generation'))
    )
    with op.batch_alter_table('boundary_generation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_boundary_generation_code'), ['code'], unique=False)
        batch_op.create_index('uq_boundary_generation_current', ['is_current'], unique=True,
                              sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
        batch_op.create_index('uq_boundary_generation_ready_code', ['code'], unique=True,
                              sqlite_where=sa.text("status = 'ready'"), postgresql_where=sa.text("status = 'ready'"))

    op.create_table('postcode_constituency',
    sa.Column('generation_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('postcode', sa.String(length=8), nullable=False),
    sa.Column('constituency_code', sa.String(length=9), nullable=False),
    sa.PrimaryKeyConstraint('generation_id', 'postcode', name=op.f('pk_postcode_constituency')),
    sqlite_with_rowid=False
    )
    op.create_table('constituency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=True),
    sa.ForeignKeyConstraint(['generation_id'], ['boundary_generation.id'], name=op.f('fk_constituency_generation_id_boundary_generation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_constituency')),
    sa.UniqueConstraint('generation_id', 'code', name=op.f('uq_constituency_generation_id_code'))
    )
    op.create_table('representative',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=False),
    sa.Column('constituency_code', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('party', sa.String(length=120), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=True),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['generation_id'], ['boundary_generation.id'], name=op.f('fk_representative_generation_id_boundary_generation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_representative')),
    sa.UniqueConstraint('generation_id', 'constituency_code', name=op.f('uq_representative_generation_id_constituency_code'))
    )


def downgrade():
    op.drop_table('representative')
    op.drop_table('constituency')
    op.drop_table('postcode_constituency')
    with op.batch_alter_table('boundary_generation', schema=None) as batch_op:
        batch_op.drop_index('uq_boundary_generation_ready_code', sqlite_where=sa.text("status = 'ready'"), postgresql_where=sa.text("status = 'ready'"))
        batch_op.drop_index('uq_boundary_generation_current', sqlite_where=sa.text('is_current'), postgresql_where=sa.text('is_current'))
        batch_op.drop_index(batch_op.f('ix_boundary_generation_code'))
    op.drop_table('boundary_generation')
