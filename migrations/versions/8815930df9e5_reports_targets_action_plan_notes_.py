"""reports: targets, action-plan notes, summary tables

Revision ID: 8815930df9e5
Revises: 5d410cc68885
Create Date: 2026-11-23 18:12:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8815930df9e5'
down_revision = '5d410cc68885'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_activity_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('workplace_id', sa.Integer(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_activity_day'))
    )
    with op.batch_alter_table('report_activity_day', schema=None) as batch_op:
        batch_op.create_index('ix_report_activity_day_kind_day', ['kind', 'day', 'branch_id', 'employer_id', 'workplace_id', 'n'], unique=False)

    op.create_table('report_member_cell',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('workplace_id', sa.Integer(), nullable=True),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('ballot_ready', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_member_cell'))
    )
    with op.batch_alter_table('report_member_cell', schema=None) as batch_op:
        batch_op.create_index('ix_report_member_cell_branch', ['branch_id', 'employer_id', 'workplace_id'], unique=False)

    op.create_table('report_participant_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('workplace_id', sa.Integer(), nullable=True),
    sa.Column('actions', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_participant_day'))
    )
    with op.batch_alter_table('report_participant_day', schema=None) as batch_op:
        batch_op.create_index('ix_report_participant_day_campaign', ['campaign_id', 'day', 'branch_id'], unique=False)
        batch_op.create_index('ix_report_participant_day_day', ['day', 'branch_id', 'contact_id'], unique=False)

    op.create_table('report_participant_cell',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('workplace_id', sa.Integer(), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('letters', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_participant_cell'))
    )
    with op.batch_alter_table('report_participant_cell', schema=None) as batch_op:
        batch_op.create_index('ix_report_participant_cell_period', ['start_on', 'end_on', 'campaign_id', 'branch_id'], unique=False)

    op.create_table('report_week_cell',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('letters', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_week_cell'))
    )
    with op.batch_alter_table('report_week_cell', schema=None) as batch_op:
        batch_op.create_index('ix_report_week_cell_week', ['campaign_id', 'week', 'branch_id'], unique=False)

    op.create_table('report_period_cell',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('workplace_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_period_cell'))
    )
    with op.batch_alter_table('report_period_cell', schema=None) as batch_op:
        batch_op.create_index('ix_report_period_cell_period', ['start_on', 'end_on', 'kind', 'branch_id'], unique=False)

    op.create_table('report_role_holder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('workplace_id', sa.Integer(), nullable=True),
    sa.Column('employer_kind', sa.String(length=32), nullable=True),
    sa.Column('is_member', sa.Boolean(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_role_holder'))
    )
    with op.batch_alter_table('report_role_holder', schema=None) as batch_op:
        batch_op.create_index('ix_report_role_holder_branch', ['branch_id', 'role'], unique=False)

    op.create_table('report_group_cell',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('workplace_id', sa.Integer(), nullable=True),
    sa.Column('group', sa.String(length=32), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_group_cell'))
    )
    with op.batch_alter_table('report_group_cell', schema=None) as batch_op:
        batch_op.create_index('ix_report_group_cell_branch', ['branch_id', 'group'], unique=False)

    op.create_table('report_call_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('due_by', sa.Date(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('gave_up', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.Column('retained', sa.Integer(), nullable=False),
    sa.Column('called', sa.Integer(), nullable=False),
    sa.Column('still_open', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_call_day'))
    )
    with op.batch_alter_table('report_call_day', schema=None) as batch_op:
        batch_op.create_index('ix_report_call_day_day', ['day', 'branch_id', 'kind', 'due_by', 'total', 'done', 'gave_up', 'reached', 'retained', 'called', 'still_open'], unique=False)

    op.create_table('report_caller_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.Column('retained', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_caller_day'))
    )
    with op.batch_alter_table('report_caller_day', schema=None) as batch_op:
        batch_op.create_index('ix_report_caller_day_day', ['day', 'branch_id', 'user_id', 'attempts', 'reached', 'retained'], unique=False)

    op.create_table('report_summary_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('watermark', sa.DateTime(timezone=True), nullable=True),
    sa.Column('full_recount_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counted_periods', sa.JSON(), nullable=True),
    sa.Column('last_duration_ms', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_summary_state'))
    )
    op.create_table('report_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('baseline_on', sa.Date(), nullable=False),
    sa.Column('growth_pct', sa.Float(), nullable=False),
    sa.Column('joiner_calls_pct', sa.Float(), nullable=False),
    sa.Column('leaver_calls_pct', sa.Float(), nullable=False),
    sa.Column('activist_growth_pct', sa.Float(), nullable=False),
    sa.Column('schools_activist_growth_pct', sa.Float(), nullable=False),
    sa.Column('social_care_growth_pct', sa.Float(), nullable=False),
    sa.Column('fragmented_below', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_report_targets_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_targets')),
    sa.UniqueConstraint('year', name=op.f('uq_report_targets_year'))
    )
    op.create_table('report_action_plan_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_report_action_plan_note_branch_id_branch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_report_action_plan_note_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_action_plan_note')),
    sa.UniqueConstraint('branch_id', 'year', 'quarter', name=op.f('uq_report_action_plan_note_branch_id_year_quarter'))
    )


def downgrade():
    op.drop_table('report_action_plan_note')
    op.drop_table('report_targets')
    op.drop_table('report_summary_state')
    with op.batch_alter_table('report_caller_day', schema=None) as batch_op:
        batch_op.drop_index('ix_report_caller_day_day')
    op.drop_table('report_caller_day')
    with op.batch_alter_table('report_call_day', schema=None) as batch_op:
        batch_op.drop_index('ix_report_call_day_day')
    op.drop_table('report_call_day')
    with op.batch_alter_table('report_group_cell', schema=None) as batch_op:
        batch_op.drop_index('ix_report_group_cell_branch')
    op.drop_table('report_group_cell')
    with op.batch_alter_table('report_role_holder', schema=None) as batch_op:
        batch_op.drop_index('ix_report_role_holder_branch')
    op.drop_table('report_role_holder')
    with op.batch_alter_table('report_period_cell', schema=None) as batch_op:
        batch_op.drop_index('ix_report_period_cell_period')
    op.drop_table('report_period_cell')
    with op.batch_alter_table('report_week_cell', schema=None) as batch_op:
        batch_op.drop_index('ix_report_week_cell_week')
    op.drop_table('report_week_cell')
    with op.batch_alter_table('report_participant_cell', schema=None) as batch_op:
        batch_op.drop_index('ix_report_participant_cell_period')
    op.drop_table('report_participant_cell')
    with op.batch_alter_table('report_participant_day', schema=None) as batch_op:
        batch_op.drop_index('ix_report_participant_day_day')
        batch_op.drop_index('ix_report_participant_day_campaign')
    op.drop_table('report_participant_day')
    with op.batch_alter_table('report_member_cell', schema=None) as batch_op:
        batch_op.drop_index('ix_report_member_cell_branch')
    op.drop_table('report_member_cell')
    with op.batch_alter_table('report_activity_day', schema=None) as batch_op:
        batch_op.drop_index('ix_report_activity_day_kind_day')
    op.drop_table('report_activity_day')
